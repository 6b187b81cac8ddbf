// Another process holding the database's write lock (an operator's `sqlite3` shell, a backup,
// `gputel export`) must not stall the collector's event loop through the writers other than
// ingest's: the periodic maintenance skips its round (counted on /metrics) and tries again next
// second; the API's writes answer 503 store_busy with Retry-After, having changed nothing, and the
// CLI says so with exit 69. Once the lock is gone, the same requests succeed.
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as flagCli } from "../../cli/flag/cli.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { waitFor } from "../helpers/net.js";
import { holdWriteLock, type WriteLock } from "../helpers/write-lock.js";
import { collectorConfig, tempDir } from "../scale/helpers.js";
import { AgentState, framePayload, frameTopic, gpuSample, statusPayload } from "./ingest/frames.js";

const HOST = "h-locked";
const UUID = gpuSample(0).uuid as string;
/** A stall of the event loop a loaded test machine's scheduling does not reach; SQLite's own wait is 5 s. */
const STALL_MS = 1000;

/** The value of one sample line of the exposition, or undefined when the series is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the collector's writers while another process holds the database's write lock", () => {
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };
  let url: string;
  let offlineFlagId: number;

  beforeAll(async () => {
    tmp = await tempDir("gputel-locked-writers-");
    collector = await startCollector(collectorConfig({ database: `${tmp.dir}/c.db` }), silentLogger());
    url = `http://127.0.0.1:${collector.httpPort}`;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5 });
    await client.publishAsync(frameTopic(HOST), Buffer.from(framePayload(HOST, 1)), { qos: 1 });
    await client.publishAsync(
      `gputel/v1/${HOST}/status`,
      Buffer.from(statusPayload(HOST, AgentState.AGENT_STATE_OFFLINE, "stopped")),
      { qos: 1 },
    );
    await client.endAsync();
    await waitFor(
      () => collector.flags.openFlags({ kinds: ["offline"] }).length === 1,
      10_000,
      "the offline flag",
    );
    offlineFlagId = collector.flags.openFlags({ kinds: ["offline"] })[0]?.id as number;
  });
  afterAll(async () => {
    await collector?.stop();
    await tmp?.remove();
  });

  async function locked<T>(fn: (lock: WriteLock) => Promise<T>): Promise<{ result: T; maxStallMs: number }> {
    const lock = await holdWriteLock(`${tmp.dir}/c.db`);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      const result = await fn(lock);
      return { result, maxStallMs: delay.max / 1e6 };
    } finally {
      delay.disable();
      await lock.release();
    }
  }

  it("skips maintenance rounds without stalling, counting them on /metrics", async () => {
    const skipped = async () =>
      sample(
        await (await fetch(`${url}/metrics`)).text(),
        'gputel_collector_maintenance_skipped_total{task="retention"}',
      ) ?? 0;
    const before = await skipped();
    const { maxStallMs } = await locked(() =>
      waitFor(async () => (await skipped()) >= before + 2, 15_000, "two skipped maintenance rounds"),
    );
    expect(maxStallMs).toBeLessThan(STALL_MS);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain("# TYPE gputel_collector_maintenance_skipped_total counter");
  });

  it("answers the API's writes 503 store_busy with Retry-After, changing nothing, and the CLI exits 69", async () => {
    const lease = { id: "L-locked", device: UUID, tenant: "acme", start: Date.now() + 3_600_000 };
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const stderr: string[] = [];
    const cliIo = { stdout: () => undefined, stderr: (t: string) => stderr.push(t), env: {} };
    const { result, maxStallMs } = await locked(async () => ({
      create: await post("/api/v1/leases", lease),
      ack: await post(`/api/v1/flags/${offlineFlagId}/ack`, { note: "seen" }),
      cli: await flagCli(["ack", String(offlineFlagId), "--note", "seen", "--url", url], cliIo),
    }));
    expect(maxStallMs).toBeLessThan(STALL_MS);
    for (const answer of [result.create, result.ack]) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(((await answer.json()) as { error: string }).error).toBe("store_busy");
    }
    expect(result.cli).toBe(69);
    expect(stderr.join("")).toContain("locked by another process");
    expect(collector.store.leases.get(lease.id)).toBeUndefined();

    // The lock is gone: the same writes go through, once each.
    expect((await post("/api/v1/leases", lease)).status).toBe(201);
    expect((await post(`/api/v1/flags/${offlineFlagId}/ack`, { note: "seen" })).status).toBe(200);
    expect(collector.store.leases.get(lease.id)?.tenant).toBe("acme");
  });
});
