// An agent SIGKILLed while it replays a backlog resumes it after a restart with the same state
// directory: every frame of the old boot arrives (embedded broker; the outage is the collector
// not running yet).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { readSeen } from "./harness/audit.js";
import { assertAllStoredOnce, Harness, waitAllStored } from "./harness/setup.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("agent SIGKILLed mid-backlog", () => {
  it("resumes the backlog after a restart: every frame of the old boot arrives once", {
    timeout: 120_000,
  }, async () => {
    h = new Harness();
    const harness = h;
    const port = await freePort();
    const database = join(harness.dir, "collector.db");
    // Slow replay (10 frames/s in batches of 5) so the kill lands while the backlog drains.
    const agent = harness.agent("backlog-kill", `mqtt://127.0.0.1:${port}`, {
      config: { spool: { replay_rate: 10, replay_batch_frames: 5 } },
    });
    agent.start();
    await waitFor(() => agent.totalSampled >= 40, 30_000, "a backlog of 40 frames");

    const collector = await harness.collector(database, { port });
    const oldBoot = agent.bootIds[0] as string;
    const storedOld = () => readSeen(database).get("backlog-kill")?.get(oldBoot)?.size ?? 0;
    await waitFor(() => storedOld() >= 10, 30_000, "part of the backlog stored");
    await agent.stop("SIGKILL");
    const sampledOld = agent.sampled.boots.get(oldBoot)?.length ?? 0;
    const atKill = storedOld();
    expect(atKill).toBeLessThan(sampledOld);

    agent.start();
    await waitFor(() => agent.bootIds.length === 2, 30_000, "the restarted agent sampling");
    const newBoot = agent.bootIds[1] as string;
    expect(newBoot).not.toBe(oldBoot);
    await waitAllStored(database, [agent], 60_000, "the old boot's backlog stored");
    await waitFor(() => (agent.sampled.boots.get(newBoot)?.length ?? 0) >= 5, 30_000, "new frames");
    expect(await agent.stop("SIGTERM")).toBe(0);
    await waitAllStored(database, [agent], 30_000, "the last frames stored");
    await collector.stop();

    const seen = readSeen(database).get("backlog-kill");
    const old = [...(seen?.get(oldBoot) ?? [])].sort((a, b) => a - b);
    // 1..max with no gap; a frame spooled just before the kill may lack its log line, never the reverse.
    expect(old).toEqual(old.map((_, k) => k + 1));
    expect(old.length).toBeGreaterThanOrEqual(sampledOld);
    const result = assertAllStoredOnce(database, [agent]);
    expect(result.problems).toEqual([]);
  });
});
