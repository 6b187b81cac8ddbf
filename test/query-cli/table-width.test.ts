// Tables stay aligned on a terminal when a cell holds text wider or narrower than its UTF-16
// length: a site named in CJK (two columns a character), a decomposed umlaut (a combining mark
// takes no column), an emoji (two columns, two UTF-16 units or more).
import { describe, expect, test } from "vitest";
import { displayWidth } from "../../cli/query/display-width.js";
import { table } from "../../cli/query/table.js";

/** The terminal column where `needle` starts in each line. */
function columnsOf(text: string, needle: RegExp): number[] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => {
      const at = line.search(needle);
      return displayWidth(line.slice(0, at));
    });
}

describe("table alignment with wide and combining characters", () => {
  test("displayWidth counts terminal columns", () => {
    expect(displayWidth("fra1")).toBe(4);
    expect(displayWidth("東京-1")).toBe(6);
    expect(displayWidth("Zu\u0308rich")).toBe(6);
    expect(displayWidth("🔥 hot")).toBe(6);
    expect(displayWidth("👩‍🔬")).toBe(2);
    expect(displayWidth("\x1b[31mred\x1b[0m")).toBe(3);
  });

  test("the column after a wide or combining cell starts where it does on the other lines", () => {
    const out = table(
      { colour: false },
      ["SITE", "UTIL"],
      [
        [{ text: "東京-1" }, { text: "U=41.0 %" }],
        [{ text: "Zu\u0308rich" }, { text: "U=12.5 %" }],
        [{ text: "🔥 hot" }, { text: "U=99.0 %" }],
        [{ text: "fra1" }, { text: "U=7.0 %" }],
      ],
    );
    const starts = columnsOf(out, /UTIL|U=/);
    expect(new Set(starts).size, out).toBe(1);
  });

  test("right-aligned numbers end in the same column", () => {
    const out = table(
      { colour: true },
      ["SITE", "GPUS"],
      [
        [{ text: "東京" }, { text: "8", right: true }],
        [{ text: "ams" }, { text: "16", right: true }],
      ],
    );
    const ends = out
      .trimEnd()
      .split("\n")
      .map((line) => displayWidth(line));
    expect(new Set(ends).size, out).toBe(1);
  });
});
