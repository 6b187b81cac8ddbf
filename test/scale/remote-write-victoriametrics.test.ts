// remote_write into a real VictoriaMetrics (Debian's `victoria-metrics`, 1.79 here; it takes
// remote-write 1.0 on /api/v1/write and out-of-order samples as is): a collector fed over MQTT
// exports every sample, and /api/v1/export returns the values the collector's own store holds —
// live frames, and a backlog replayed after an agent outage. Required when
// GPUTEL_REQUIRE_VICTORIAMETRICS=1 (a missing binary fails); otherwise the test skips.
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import { METRIC_BY_KEY } from "../../shared/metrics.js";
import type { IFrame } from "../../shared/proto.js";
import { waitFor } from "../helpers/net.js";
import {
  startVictoriaMetrics,
  type VictoriaMetrics,
  victoriaMetricsAvailable,
} from "../helpers/victoria-metrics.js";
import { collectorConfig, remoteWriteFrame as frame, REMOTE_WRITE_KEYS as KEYS, tempDir } from "./helpers.js";

const available = victoriaMetricsAvailable("VictoriaMetrics test");
const NOW = Date.now();
const LIVE_START = NOW - 120_000;
const OUTAGE_START = NOW - 20 * 60_000;

interface ExportLine {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

describe.skipIf(!available)("remote_write into a real VictoriaMetrics", () => {
  let vm: VictoriaMetrics;
  let url: string;
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    tmp = await tempDir("gputel-rw-vm-");
    vm = await startVictoriaMetrics();
    url = vm.url;
    const config = collectorConfig({
      database: join(tmp.dir, "collector.db"),
      "remote_write.url": `${url}/api/v1/write`,
      "remote_write.interval": "100ms",
      "remote_write.batch_samples": 500,
    });
    collector = await startCollector(config, silentLogger());
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    await vm?.stop();
    await tmp?.remove();
  });

  it("/api/v1/export returns the collector's own values, including a backlog replayed after an outage", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, {
      protocolVersion: 5,
      clientId: "rw-vm-test-publisher",
    });
    const publish = (host: string, frames: IFrame[]) =>
      client.publishAsync(`gputel/v1/${host}/frame`, Buffer.from(encodeFrameBatch(frames)), { qos: 1 });
    // Live: two agents, 60 frames each at 1 s.
    for (let seq = 1; seq <= 60; seq++) {
      await publish("h-live", [frame("h-live", seq, LIVE_START + seq * 1000, "b1")]);
      await publish("h-replay", [frame("h-replay", 1000 + seq, LIVE_START + seq * 1000, "b2")]);
    }
    await waitFor(() => collector.store.frameCount() === 120, 20_000, "120 frames stored");
    await collector.remoteWrite?.drained();
    // h-replay's agent was cut off 20 minutes ago: its spool replays 300 older frames in one batch.
    const backlog = Array.from({ length: 300 }, (_, i) =>
      frame("h-replay", 100 + i, OUTAGE_START + i * 1000, "b2"),
    );
    await publish("h-replay", backlog);
    await waitFor(() => collector.store.frameCount() === 420, 20_000, "backlog stored");
    await collector.remoteWrite?.drained();
    await client.endAsync();
    const stats = collector.remoteWrite?.stats();
    expect(stats).toMatchObject({ batchesDropped: 0, pendingRows: 0 });
    expect(stats?.backlogBatches).toBeGreaterThan(0);
    // Accepted samples sit in in-memory buffers until flushed; this makes them searchable now.
    await vm.flush();

    let compared = 0;
    for (const g of collector.store.latest()) {
      const own = collector.store.samples(g.uuid, NOW - 3600_000, NOW + 1);
      for (const key of KEYS) {
        const def = METRIC_BY_KEY.get(key);
        if (!def) throw new Error(key);
        const expected = own
          .filter((s) => s.values[key] !== undefined)
          .map((s) => [s.ts, (s.values[key] as number) * def.scale * def.prom.factor]);
        const params = new URLSearchParams({
          "match[]": `${def.prom.name}{uuid="${g.uuid}",host="${g.host}",gpu="${g.index}",model="${g.model}",site="${g.site}"}`,
          start: String(Math.floor((NOW - 2 * 3600_000) / 1000)),
          end: String(Math.ceil((NOW + 60_000) / 1000)),
        });
        const response = await fetch(`${url}/api/v1/export?${params}`);
        expect(response.ok, `export ${key} ${g.uuid}`).toBe(true);
        const lines = (await response.text())
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as ExportLine);
        expect(lines, `${key} ${g.uuid}`).toHaveLength(1);
        const line = lines[0] as ExportLine;
        // Export's order is storage order; sort by time to compare with the store.
        const got = line.timestamps
          .map((t, i) => [t, line.values[i] as number])
          .sort((a, b) => (a[0] as number) - (b[0] as number));
        expect(got.length, `${key} ${g.host}`).toBe(expected.length);
        for (const [i, [t, v]] of got.entries()) {
          expect(t).toBe(expected[i]?.[0]);
          expect(v).toBeCloseTo(expected[i]?.[1] as number, 9);
        }
        compared += got.length;
      }
    }
    // 4 GPUs; h-replay's two hold 360 samples each, h-live's 60; the fan is there on half of them.
    expect(compared).toBe((2 * 60 + 2 * 360) * 3.5);
  }, 90_000);
});
