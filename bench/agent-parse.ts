// agent.parse_us_per_sample: the hot-path parser (CsvStream) turning one 8-GPU iteration of
// `--query-gpu … --format=csv,noheader,nounits` lines into a sample. Median of several runs.
import { CsvStream } from "../agent/sources/nvidia-smi/csv-stream.js";
import { planQuery } from "../agent/sources/nvidia-smi/discovery.js";
import { METRICS, type ValueKind } from "../shared/metrics.js";

const GPUS = 8;
const VALUES: Record<ValueKind, string> = {
  int: "42",
  float: "312.57",
  bool: "Disabled",
  hex: "0x0000000000000001",
  pstate: "P0",
};

export async function benchParse(): Promise<{ name: string; value: number; unit: string }[]> {
  const plan = planQuery(new Set(METRICS.flatMap((m) => m.smiFields)));
  const lines = Array.from({ length: GPUS }, (_, i) =>
    [
      "2026/07/14 08:12:38.696",
      String(i),
      `GPU-0000000${i}-0000-0000-0000-000000000000`,
      `00000000:${(0x18 + i).toString(16)}:00.0`,
      ...plan.metrics.map((m) => (m.def.key === "fan_speed_pct" ? "[N/A]" : VALUES[m.def.kind])),
    ].join(", "),
  );
  const gpus = lines.map((_, index) => ({ index, uuid: `GPU-${index}` }));
  const iterations = 20_000;
  const runs: number[] = [];
  for (let run = 0; run < 7; run++) {
    const stream = new CsvStream(plan, gpus);
    let samples = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      for (const line of lines) for (const e of stream.push(line, i)) if (e.type === "sample") samples += 1;
    }
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (samples !== iterations) throw new Error(`expected ${iterations} samples, got ${samples}`);
    runs.push(us / iterations);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)] ?? Number.NaN;
  return [{ name: "agent.parse_us_per_sample", value: Math.round(median * 100) / 100, unit: "us" }];
}
