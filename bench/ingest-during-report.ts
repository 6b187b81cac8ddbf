// Ingest while a report runs (issue 18): `ingest.lag_p99_ms_during_report`, publish → PUBACK p99
// of a live feed (one frame per host every 10 s, 8 GPUs each, through the embedded broker of a
// real collector) while 30-day utilization reports over the whole fleet run back to back on its
// HTTP API (target < 250 ms). Reports run on the read worker (docs/design.md §5); before it,
// a report held every acknowledgement for its whole duration.
// The history is bench/report.ts's bulk fill (10,000 GPUs x 30 days; smoke: 500 x 3); the
// publisher is one mqtt.js client in this process, paced.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { loadCollectorConfig } from "../collector/config.js";
import { startCollector } from "../collector/run.js";
import { Store } from "../collector/store/store.js";
import { encodeFrameBatch } from "../shared/codec.js";
import { silentLogger } from "../shared/logger.js";
import { SCHEMA_VERSION } from "../shared/proto.js";
import { topicFor } from "../shared/topics.js";
import { type BenchFigure, median } from "./common.js";
import { fillFleet } from "./report.js";
import { SynthFleet } from "./synth-fleet.js";

const TIERS = ["48h:raw", "30d:1m", "2y:1h"];
/** At least this many reports, and at least BASELINE_MS of them. */
const REPORTS = 3;
const BASELINE_MS = 5_000;

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? Number.NaN;
}

export async function benchIngestDuringReport(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const gpus = size === "full" ? 10_000 : 500;
  const days = size === "full" ? 30 : 3;
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-lag-report-"));
  const database = join(dir, "collector.db");
  try {
    const filled = Store.open(database, { retention: TIERS });
    const range = fillFleet(filled, gpus, days);
    filled.close();
    const loaded = loadCollectorConfig({
      env: {},
      touchFiles: false,
      overrides: {
        database,
        retention: TIERS,
        "broker.listen": "127.0.0.1:0",
        "http.listen": "127.0.0.1:0",
        log_level: "silent",
      },
    });
    if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
    const collector = await startCollector(loaded.config, silentLogger());
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5 });
    try {
      const hosts = Math.ceil(gpus / 8);
      const fleet = new SynthFleet({ hosts, gpusPerHost: 8, intervalMs: 10_000, startMs: Date.now() });
      const url = `http://127.0.0.1:${collector.httpPort}/api/v1/reports/utilization?from=${range.fromMs}&to=${range.toMs}`;
      // A report the API cuts (its 30 s connection timeout on a loaded machine) still ran on
      // the worker while frames were acknowledged: counted, not fatal.
      let failedReports = 0;
      const report = async () => {
        const t0 = performance.now();
        try {
          const res = await fetch(url);
          const body = (await res.json()) as { total?: { gpus: number } };
          if (res.status !== 200 || body.total?.gpus === undefined) failedReports++;
        } catch {
          failedReports++;
        }
        return performance.now() - t0;
      };
      await report(); // starts the read worker

      // The live feed: frame k of every host per 10 s, spread evenly.
      const lags: { at: number; ms: number }[] = [];
      let sent = 0;
      let errors = 0;
      const started = performance.now();
      const perS = hosts / 10;
      const feed = setInterval(() => {
        const due = Math.floor(((performance.now() - started) / 1000) * perS);
        for (; sent < due; sent++) {
          const h = sent % hosts;
          const frame = fleet.frame(h, Math.floor(sent / hosts));
          const payload = encodeFrameBatch([
            { ...frame, schema_version: SCHEMA_VERSION, agent_version: "bench" },
          ]);
          const t0 = performance.now();
          client.publishAsync(topicFor(frame.host, "frame"), Buffer.from(payload), { qos: 1 }).then(
            () => lags.push({ at: t0, ms: performance.now() - t0 }),
            () => errors++,
          );
        }
      }, 5);
      await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
      const reportFrom = performance.now();
      const reportMs: number[] = [];
      // Reports back to back for at least as long as the baseline: a report that reads
      // cumulative edges ends in milliseconds, before the feed's next frame is due.
      while (reportMs.length < REPORTS || performance.now() - reportFrom < BASELINE_MS)
        reportMs.push(await report());
      const reportTo = performance.now();
      clearInterval(feed);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last acknowledgements
      const baseline = lags.filter((l) => l.at < reportFrom).map((l) => l.ms);
      const during = lags.filter((l) => l.at >= reportFrom && l.at < reportTo).map((l) => l.ms);
      const what = `${gpus} GPUs x ${days} d, ${hosts} hosts every 10 s`;
      return [
        {
          name: "ingest.lag_p99_ms_during_report",
          value: p99(during),
          unit: `ms (${what}; ${during.length} frames)`,
        },
        {
          name: "ingest.lag_p99_ms_before_report",
          value: p99(baseline),
          unit: `ms (${what}; ${baseline.length} frames)`,
        },
        {
          name: "ingest.report_during_ingest_ms",
          value: median(reportMs),
          unit: "ms (median, HTTP, read worker)",
        },
        { name: "ingest.publish_errors_during_report", value: errors, unit: "publishes" },
        {
          name: "ingest.reports_failed_during_report",
          value: failedReports,
          unit: "reports (HTTP error or cut)",
        },
      ];
    } finally {
      await client.endAsync();
      await collector.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
