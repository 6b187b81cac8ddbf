// The agents' spool drops on /metrics: every frame carries frames_dropped (the agent spool's
// count over its life); the collector exports the newest frame's value per host as the counter
// gputel_agent_spool_frames_dropped_total, so deploy/prometheus can alert on its increase. A
// replayed backlog (older frames, smaller counts) must not move it back.
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { encodeFrameBatch } from "../../shared/codec.js";
import { silentLogger } from "../../shared/logger.js";
import type { IFrame } from "../../shared/proto.js";
import { makeFrame } from "../collector/ingest/frames.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "../scale/helpers.js";

const NOW = Date.now();

function frame(host: string, seq: number, tsMs: number, dropped: number): IFrame {
  const f = makeFrame(host, seq, { gpus: 1, timestampMs: tsMs });
  f.frames_dropped = dropped;
  return f;
}

describe("agent spool drops on /metrics", () => {
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    tmp = await tempDir("gputel-spool-metric-");
    collector = await startCollector(collectorConfig({ database: `${tmp.dir}/c.db` }), silentLogger());
  });
  afterAll(async () => {
    await collector?.stop();
    await tmp?.remove();
  });

  async function metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${collector.httpPort}/metrics`)).text();
  }

  it("exports the newest frame's count per host as a counter", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5 });
    const publish = (host: string, frames: IFrame[]) =>
      client.publishAsync(`gputel/v1/${host}/frame`, Buffer.from(encodeFrameBatch(frames)), { qos: 1 });
    await publish("h-drop", [frame("h-drop", 10, NOW - 10_000, 0)]);
    await publish("h-drop", [frame("h-drop", 11, NOW - 9_000, 7)]);
    await publish("h-fine", [frame("h-fine", 1, NOW - 8_000, 0)]);
    // The backlog replayed later: older frames from before the drops.
    await publish("h-drop", [frame("h-drop", 3, NOW - 60_000, 0), frame("h-drop", 4, NOW - 59_000, 0)]);
    await waitFor(
      () => {
        const snap = collector.pipeline.snapshot();
        return snap.framesStored + snap.framesDuplicate === 5;
      },
      10_000,
      "5 frames committed",
    );
    await client.endAsync();
    const text = await metrics();
    expect(text).toContain("# TYPE gputel_agent_spool_frames_dropped_total counter");
    expect(text).toContain('gputel_agent_spool_frames_dropped_total{host="h-drop"} 7');
    expect(text).toContain('gputel_agent_spool_frames_dropped_total{host="h-fine"} 0');
  });
});
