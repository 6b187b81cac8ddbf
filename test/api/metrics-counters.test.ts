// Error and replay counts that only rise (ECC volatile errors, PCIe replays, NVLink errors) are
// Prometheus counters: `_total` names and `# TYPE … counter` on /metrics (classic text format,
// as the collector's own counters), the same names in remote_write, and promtool accepts the text.
// An OpenMetrics export types them as counters too (family named without `_total`).
// They reset at a driver reload or a reboot, which rate() and increase() read as counter resets.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ExportColumn, exportColumns, RAW_TIER, rollupTier } from "../../collector/export/columns.js";
import { Chunker } from "../../collector/export/export-stream.js";
import { openMetricsChunks } from "../../collector/export/format-openmetrics.js";
import type { ExportSource } from "../../collector/export/store-source.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { SeriesLabels } from "../../collector/remote-write/series.js";
import { METRICS } from "../../shared/metrics.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { checkMetrics, PROMTOOL } from "../helpers/promtool.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const havePromtool = existsSync(PROMTOOL);
const G1 = "GPU-11111111-2222-3333-4444-555555555555";

/** The counting metrics, by catalogue key, with the reading the frame carries and the family name. */
const COUNTERS = [
  ["ecc_corrected_volatile", 7, "gputel_gpu_ecc_corrected_volatile_errors_total"],
  ["ecc_uncorrected_volatile", 1, "gputel_gpu_ecc_uncorrected_volatile_errors_total"],
  ["pcie_replay_count", 42, "gputel_gpu_pcie_replays_total"],
  ["nvlink_errors", 3, "gputel_gpu_nvlink_errors_total"],
] as const;

let c: TestCollector;
let text = "";

beforeAll(async () => {
  c = await startTestCollector();
  const frame = frameFor("host-a", [G1], Date.now());
  const gpu = frame.gpus?.[0] as Record<string, unknown>;
  for (const [key, value] of COUNTERS) gpu[key] = value;
  c.running.store.writeFrames([frame as ValidFrame], Date.now());
  const r = await fetch(`${c.url}/metrics`);
  expect(r.status).toBe(200);
  text = await r.text();
});
afterAll(async () => {
  await c?.close();
});

describe("counting GPU metrics on /metrics", () => {
  test.each(COUNTERS)("%s is the counter %s", (_key, value, name) => {
    expect(text).toContain(`# TYPE ${name} counter\n`);
    const samples = text.split("\n").filter((l) => l.startsWith(`${name}{`));
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatch(new RegExp(`uuid="${G1}".* ${value}$`));
    expect(text).not.toContain(`${name.replace(/_total$/, "")}{`);
  });

  test("remote_write names them as /metrics does", () => {
    const series = new SeriesLabels().forGpu(1, {
      host: "host-a",
      index: 0,
      uuid: G1,
      model: "m",
      site: "lab",
      labels: {},
    });
    for (const [key, , name] of COUNTERS) {
      const at = METRICS.findIndex((m) => m.key === key);
      const sent = series?.[at]?.labels.find((l) => l.name === "__name__")?.value;
      expect(sent, key).toBe(name);
    }
  });

  test.skipIf(!havePromtool && process.env.GPUTEL_REQUIRE_PROMETHEUS !== "1")(
    "promtool check metrics accepts the text",
    async () => {
      const { code, out } = await checkMetrics(text);
      expect(out).toBe("");
      expect(code).toBe(0);
    },
  );
});

describe("counting GPU metrics in an OpenMetrics export", () => {
  const gpu = { uuid: G1, host: "host-a", index: 0, model: "m", site: "lab", labels: {} };
  /** One sample of 42 at 1 s for every column asked for. */
  const source: ExportSource = {
    tiers: () => [RAW_TIER],
    slices: (_uuid, _tier, columns: readonly ExportColumn[]) => [
      { ts: [1000], values: columns.map(() => Float64Array.of(42)) },
    ],
  };
  const exported = (stepMs: number) => {
    const tier = stepMs === 0 ? RAW_TIER : rollupTier(stepMs);
    const request = { fromMs: 0, toMs: 2000, tier, format: "openmetrics" as const, gpus: [gpu] };
    const out = new Chunker();
    const chunks = [...openMetricsChunks(source, request, exportColumns(tier), out)];
    return [...chunks, out.take()].join("");
  };

  test("raw: a counter family without _total, its samples with it", () => {
    const text = exported(0);
    expect(text).toContain("# TYPE gputel_gpu_pcie_replays counter\n");
    expect(text).toContain(`gputel_gpu_pcie_replays_total{host="host-a",gpu="0",uuid="${G1}"`);
    expect(text).toContain("# TYPE gputel_gpu_temperature_celsius gauge\n");
  });

  test("rollups: a counter's bucket statistics are gauges", () => {
    expect(exported(60_000)).toContain("# TYPE gputel_gpu_pcie_replays_total:max_1m gauge\n");
  });
});
