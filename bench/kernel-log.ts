// agent.kernel_log_lines_per_s: the kernel-log parser (agent/sources/kernel-log/xid-line.ts) over
// every line of the real dumps in test/fixtures/kernel-log/ (Xid, SXid, continuation and unrelated
// lines in every format), repeated. Median of several runs.
import { readdirSync, readFileSync } from "node:fs";
import { parseKernelLogLine } from "../agent/sources/kernel-log/xid-line.js";
import { type BenchFigure, median } from "./common.js";

const DIR = new URL("../test/fixtures/kernel-log/", import.meta.url);

export async function benchKernelLog(size: "smoke" | "full"): Promise<BenchFigure[]> {
  const lines = readdirSync(DIR)
    .filter((f) => f !== "README.md")
    .flatMap((f) => readFileSync(new URL(f, DIR), "utf8").split("\n"));
  const xidLines = lines.filter((l) => l.includes("NVRM: Xid (")).length;
  const repeats = size === "smoke" ? 20 : 300;
  const runs: number[] = [];
  for (let run = 0; run < 7; run++) {
    let events = 0;
    const start = process.hrtime.bigint();
    for (let r = 0; r < repeats; r++) {
      for (const line of lines) if (parseKernelLogLine(line)?.kind === "xid") events += 1;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (events !== xidLines * repeats)
      throw new Error(`expected ${xidLines * repeats} Xid events, got ${events}`);
    runs.push((lines.length * repeats) / seconds);
  }
  return [{ name: "agent.kernel_log_lines_per_s", value: Math.round(median(runs)), unit: "lines/s" }];
}
