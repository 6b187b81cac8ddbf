// The long-lived pmon child's lines split into intervals: a repeated (GPU, pid), a repeated idle
// GPU or a new header closes the interval being read; only a complete interval is "the last".
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePmon } from "../../../agent/holders/pmon.js";
import { PmonStream } from "../../../agent/holders/pmon-stream.js";
import { silentLogger } from "../../../shared/logger.js";

const HEADER = [
  "# gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command",
  "# Idx           #    C/G     MB     MB      %      %      %      %      %      %    name",
];
const row = (gpu: number, pid: number, sm: string) =>
  `    ${gpu}      ${pid}     C   15690      0     ${sm}     10      -      -      -      -    gpu_burn`;

function stream(now: { t: number }) {
  const clock = { now: () => now.t, after: () => () => {}, every: () => () => {} };
  return new PmonStream({ command: ["nvidia-smi"], periodS: 1, logger: silentLogger(), clock });
}

describe("PmonStream", () => {
  it("answers the last complete interval, not the one being read", () => {
    const now = { t: 1000 };
    const s = stream(now);
    expect(s.last()).toEqual({ missing: "pmon has not answered yet" });
    for (const line of [...HEADER, row(0, 11, "99"), row(1, 12, "50")]) s.push(line);
    expect("missing" in s.last()).toBe(true);
    s.push(row(0, 11, "98"));
    const last = s.last();
    expect("sample" in last && last.sample.rows.map((r) => [r.gpuIndex, r.pid, r.values.sm])).toEqual([
      [0, 11, 99],
      [1, 12, 50],
    ]);
    // A not-sampled value is absent, never 0.
    s.push(row(1, 12, "-"));
    s.push(HEADER[0] ?? "");
    const next = s.last();
    expect("sample" in next && next.sample.rows.map((r) => r.values.sm)).toEqual([98, undefined]);
    now.t += 10_000;
    expect(s.last()).toEqual({ missing: "pmon gave no interval within 3 periods" });
  });

  it("idle GPUs (pid -) close intervals too, and an error line is the reason", () => {
    const s = stream({ t: 0 });
    for (const line of [
      ...HEADER,
      "    0          -     -      -      -      -      -      -      -      -      -    -",
    ])
      s.push(line);
    s.push("    0          -     -      -      -      -      -      -      -      -      -    -");
    const last = s.last();
    expect("sample" in last && last.sample.idleGpus).toEqual([0]);
    const broken = stream({ t: 0 });
    broken.push("Failed to initialize NVML: Driver/library version mismatch");
    expect(broken.last()).toEqual({ missing: expect.stringContaining("NVML") });
  });

  it("reads each interval as parsePmon reads the whole text, whatever the header's columns", () => {
    const headers = [
      HEADER,
      [
        "# gpu         pid   type     sm    mem    enc    dec    command",
        "# Idx           #    C/G      %      %      %      %    name",
      ],
      ["# gpu     pid  type    sm   mem   enc   dec   jpg   ofa   command"],
    ];
    const value = fc.oneof(fc.constant("-"), fc.nat({ max: 100 }).map(String), fc.constant("7.5"));
    const line = fc.oneof(
      fc
        .tuple(
          fc.nat({ max: 3 }),
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom("C", "G", "C+G"),
          fc.array(value, { minLength: 10, maxLength: 10 }),
          fc.constantFrom("gpu_burn", "python", "my job 2"),
        )
        .map(([gpu, pid, type, values, name]) => [gpu, pid, type, ...values, name] as const),
      fc.nat({ max: 3 }).map((gpu) => [gpu, "-", "-"] as const),
    );
    const text = fc
      .tuple(fc.constantFrom(...headers), fc.array(line, { minLength: 1, maxLength: 40 }))
      .map(([header, lines]) => {
        const fixed = (header[0] ?? "").split(/\s+/).length - 2; // less "#" and the command
        const rows = lines.map((cells) =>
          cells.length === 3
            ? `    ${cells[0]}      -     -${"      -".repeat(fixed - 3)}    -`
            : `    ${[...cells.slice(0, fixed)].join("     ")}    ${cells[cells.length - 1]}`,
        );
        return [...header, ...rows];
      });
    fc.assert(
      fc.property(text, (lines) => {
        const parsed = parsePmon(lines.join("\n"));
        expect(parsed.ok).toBe(true);
        const s = stream({ t: 0 });
        for (const l of lines) s.push(l);
        s.push(lines[0] ?? ""); // a new header closes the interval being read
        const last = s.last();
        expect("sample" in last ? last.sample : last).toEqual(parsed.ok ? parsed.samples.at(-1) : undefined);
      }),
      { numRuns: 500 },
    );
  });
});
