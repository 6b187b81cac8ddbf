// remote_write into a real Prometheus (its remote-write receiver, 1 h out-of-order window): a
// collector fed over MQTT exports every sample, and PromQL through Prometheus's HTTP API returns
// the values the collector's own store holds — live frames, and a backlog replayed after an
// agent outage (old timestamps arriving after newer ones were already sent).
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import { METRIC_BY_KEY } from "../../shared/metrics.js";
import type { IFrame } from "../../shared/proto.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, remoteWriteFrame as frame, REMOTE_WRITE_KEYS as KEYS, tempDir } from "./helpers.js";
import { type Prometheus, prometheusAvailable, startPrometheus } from "./prometheus.js";

const available = prometheusAvailable();
const NOW = Date.now();
const LIVE_START = NOW - 120_000;
const OUTAGE_START = NOW - 20 * 60_000;

describe.skipIf(!available)("remote_write into a real Prometheus", () => {
  let prom: Prometheus;
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    prom = await startPrometheus();
    tmp = await tempDir("gputel-rw-prom-");
    const config = collectorConfig({
      database: join(tmp.dir, "collector.db"),
      "remote_write.url": prom.writeUrl,
      "remote_write.interval": "100ms",
      "remote_write.batch_samples": 500,
    });
    collector = await startCollector(config, silentLogger());
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    await prom?.stop();
    await tmp?.remove();
  });

  it("PromQL returns the collector's own values, including a backlog replayed after an outage", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, {
      protocolVersion: 5,
      clientId: "rw-test-publisher",
    });
    const publish = (host: string, frames: IFrame[]) =>
      client.publishAsync(`gputel/v1/${host}/frame`, Buffer.from(encodeFrameBatch(frames)), { qos: 1 });
    // Live: two agents, 60 frames each at 1 s.
    for (let seq = 1; seq <= 60; seq++) {
      await publish("h-live", [frame("h-live", seq, LIVE_START + seq * 1000, "b1")]);
      await publish("h-replay", [frame("h-replay", 1000 + seq, LIVE_START + seq * 1000, "b2")]);
    }
    await waitFor(
      () => collector.store.frameCount() === 120,
      20_000,
      `120 frames stored (${collector.store.frameCount()}, ${JSON.stringify(collector.store.rejectCounts())})`,
    );
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

    let compared = 0;
    for (const g of collector.store.latest()) {
      const own = collector.store.samples(g.uuid, NOW - 3600_000, NOW + 1);
      for (const key of KEYS) {
        const def = METRIC_BY_KEY.get(key);
        if (!def) throw new Error(key);
        const expected = own
          .filter((s) => s.values[key] !== undefined)
          .map((s) => [s.ts, (s.values[key] as number) * def.scale * def.prom.factor]);
        const { result } = await prom.api<{ result: { values: [number, string][] }[] }>("query", {
          query: `${def.prom.name}{uuid="${g.uuid}",host="${g.host}",gpu="${g.index}",model="${g.model}",site="${g.site}"}[2h]`,
          time: String((NOW + 1000) / 1000),
        });
        expect(result, `${key} ${g.uuid}`).toHaveLength(1);
        const got = (result[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)]);
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
