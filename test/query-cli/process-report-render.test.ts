// `gputel query report processes` as a table: a report a collector had to cut (more sessions in
// the range than it reads for one report) says so under the table; a whole one says nothing.
import { describe, expect, it } from "vitest";
import { renderProcessReport } from "../../cli/query/processes.js";
import type { ProcessReport } from "../../collector/reports/process-report.js";

const report = (truncated: boolean): ProcessReport => ({
  fromMs: Date.UTC(2026, 10, 1),
  toMs: Date.UTC(2026, 11, 1),
  by: "user",
  rows: [{ key: "alice", sessions: 3, gpus: 2, gpuHours: 12.5, idleHeldHours: 1 }],
  truncated,
});

describe("the process report's table", () => {
  it("says the earlier sessions are left out when a collector cut the range", () => {
    const text = renderProcessReport(report(true), { colour: false });
    expect(text).toMatch(/alice\s+3\s+2/);
    expect(
      text.endsWith(
        "Sessions seen earlier in the range are left out (a collector reads at most so many for a report): ask a shorter range.\n",
      ),
    ).toBe(true);
  });

  it("says nothing of it when every session was read", () => {
    expect(renderProcessReport(report(false), { colour: false })).not.toContain("left out");
  });
});
