// Several collectors' process lists as one (merge/list-answers.ts mergeProcessAnswers): cut at the
// limit, and `truncated` when the merge cut it or any collector's list came cut, so the merged
// list says it is not whole even when a session on two collectors brings it under the limit.
import { describe, expect, test } from "vitest";
import { mergeProcessAnswers } from "../../../collector/merge/list-answers.js";

const M = 60_000;

function session(host: string, pid: number, lastSeenMs: number, memoryMib: number) {
  return {
    host,
    gpuUuid: `GPU-${host}`,
    migUuid: null,
    pid,
    startMs: 0,
    firstSeenMs: 0,
    lastSeenMs,
    memoryMib,
  };
}

const a1 = session("a", 1, 3 * M, 10);
const a2 = session("a", 2, 2 * M, 30);
const b1 = session("b", 1, 1 * M, 20);

describe("mergeProcessAnswers", () => {
  test("whole lists under the limit: not truncated", () => {
    const merged = mergeProcessAnswers(
      [{ processes: [a1, a2] }, { processes: [b1], truncated: false }],
      false,
      3,
    );
    expect(merged).toEqual({ truncated: false, processes: [a1, a2, b1] });
  });

  test("the merge cuts past the limit: truncated, the newest kept (current: then biggest memory first)", () => {
    const answers = [{ processes: [a1, a2], truncated: false }, { processes: [b1] }];
    expect(mergeProcessAnswers(answers, false, 2)).toEqual({ truncated: true, processes: [a1, a2] });
    expect(mergeProcessAnswers(answers, true, 2)).toEqual({ truncated: true, processes: [a2, a1] });
  });

  test("a collector's list came cut: truncated, though the merged sessions fit the limit", () => {
    // b's list was cut at 2 and shares a session with a's: 2 sessions merged, more on b.
    const merged = mergeProcessAnswers(
      [{ processes: [a1] }, { processes: [a1, a2], truncated: true }],
      false,
      2,
    );
    expect(merged).toEqual({ truncated: true, processes: [a1, a2] });
  });
});
