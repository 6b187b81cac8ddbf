// Deliveries on /metrics: a webhook, an Alertmanager and a remote_write receiver that cannot be
// reached are retried with backoff; each failed attempt is counted on /metrics, so the operator
// who scrapes the collector sees that alerts or samples are not getting out (and the shipped
// rules can alert on it), not only the collector's log.
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { freePort } from "../collector/alerts/helpers.js";
import { AgentState, framePayload, frameTopic, statusPayload } from "../collector/ingest/frames.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "../scale/helpers.js";

/** The value of one sample line of the exposition, or undefined when the series is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("alert and remote_write deliveries on /metrics", () => {
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    tmp = await tempDir("gputel-delivery-metrics-");
    // Nothing listens there: every delivery fails with connection refused.
    const down = `http://127.0.0.1:${await freePort()}`;
    collector = await startCollector(
      collectorConfig({
        database: `${tmp.dir}/c.db`,
        "alerts.webhook.url": `${down}/hook`,
        "alerts.alertmanager.url": down,
        "remote_write.url": `${down}/api/v1/write`,
        "remote_write.interval": "100ms",
      }),
      silentLogger(),
    );
  });
  afterAll(async () => {
    await collector?.stop();
    await tmp?.remove();
  });

  async function metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${collector.httpPort}/metrics`)).text();
  }

  it("counts failed attempts and queued messages per receiver, and remote_write's retries and backlog", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5 });
    await client.publishAsync(frameTopic("h-out"), Buffer.from(framePayload("h-out", 1)), { qos: 1 });
    // The agent says it stops: the offline flag opens, an alert for both receivers.
    await client.publishAsync(
      "gputel/v1/h-out/status",
      Buffer.from(statusPayload("h-out", AgentState.AGENT_STATE_OFFLINE, "stopped")),
      { qos: 1 },
    );
    await client.endAsync();
    let text = "";
    await waitFor(
      async () => {
        text = await metrics();
        return (
          (sample(text, 'gputel_alert_notifications_errors_total{receiver="webhook"}') ?? 0) > 0 &&
          (sample(text, 'gputel_alert_notifications_errors_total{receiver="alertmanager"}') ?? 0) > 0 &&
          (sample(text, "gputel_remote_write_retries_total") ?? 0) > 0
        );
      },
      15_000,
      "failed deliveries on /metrics",
    );
    expect(text).toContain("# TYPE gputel_alert_notifications_errors_total counter");
    expect(text).toContain("# TYPE gputel_remote_write_retries_total counter");
    expect(sample(text, 'gputel_alert_notifications_sent_total{receiver="webhook"}')).toBe(0);
    expect(sample(text, 'gputel_alert_notifications_sent_total{receiver="alertmanager"}')).toBe(0);
    expect(sample(text, 'gputel_alert_notifications_dropped_total{receiver="webhook"}')).toBe(0);
    // The offline alert waits at the head of the webhook's queue until the receiver answers.
    expect(sample(text, 'gputel_alert_notifications_queue_length{receiver="webhook"}')).toBe(1);
    expect(sample(text, "gputel_remote_write_samples_sent_total")).toBe(0);
    expect(sample(text, "gputel_remote_write_samples_dropped_total")).toBe(0);
    // The frame's row stays in the log until a receiver takes it.
    expect(sample(text, "gputel_remote_write_pending_rows")).toBe(1);
  });
});
