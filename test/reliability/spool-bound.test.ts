// Spool bound reached while no broker is reachable: the oldest frames are dropped, the drop is
// logged and carried in the frames (Frame.frames_dropped: the spool's lifetime total), and what
// arrives plus what was dropped is what was sampled.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { subscribe } from "../helpers/subscriber.js";
import { readSeen } from "./harness/audit.js";
import { Harness } from "./harness/setup.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("spool bound", () => {
  it("drops the oldest frames, counts them in the frames and the logs, keeps the rest", {
    timeout: 120_000,
  }, async () => {
    h = new Harness();
    const harness = h;
    const port = await freePort();
    const database = join(harness.dir, "collector.db");
    const agent = harness.agent("bound", `mqtt://127.0.0.1:${port}`, {
      config: { spool: { max_size: "16KiB" } },
    });
    agent.start();
    const boundLine = () => agent.output.find((l) => l.includes("Spool bound reached"));
    await waitFor(() => boundLine() !== undefined, 60_000, "the spool bound reached");
    await waitFor(() => agent.totalSampled >= 60, 30_000, "more frames past the bound");
    expect(await agent.stop("SIGTERM")).toBe(0);
    const firstBoot = agent.bootIds[0] as string;
    const { droppedTotal } = agent.spoolPending();
    expect(droppedTotal).toBeGreaterThan(0);
    expect(JSON.parse(boundLine() as string)).toMatchObject({ level: "warn", maxBytes: 16 * 1024 });

    // Broker (and a watcher) up, then the agent again: the backlog drains, new frames carry the count.
    const collector = await harness.collector(database, { port });
    const { received, client } = await subscribe(`mqtt://127.0.0.1:${port}`, "gputel/v1/+/frame");
    harness.onCleanup(() => client.endAsync(true));
    agent.start();
    await waitFor(() => agent.bootIds.length === 2, 30_000, "the second boot sampling");
    const secondBoot = agent.bootIds[1] as string;
    await waitFor(
      () => (agent.sampled.boots.get(secondBoot)?.length ?? 0) >= 5 && allLoggedStoredExceptDropped(),
      60_000,
      "the surviving backlog stored",
    );
    expect(await agent.stop("SIGTERM")).toBe(0);
    await collector.stop();

    const sampledFirst = agent.sampled.boots.get(firstBoot) ?? [];
    const storedFirst = [...(readSeen(database).get("bound")?.get(firstBoot) ?? [])].sort((a, b) => a - b);
    // The dropped ones are exactly the oldest: 1..dropped missing, dropped+1..N all there.
    expect(storedFirst).toEqual(sampledFirst.slice(droppedTotal));
    expect(storedFirst.length + droppedTotal).toBe(sampledFirst.length);
    const fromSecondBoot = received.frames.filter((f) => f.boot_id === secondBoot);
    expect(fromSecondBoot.length).toBeGreaterThan(0);
    for (const frame of fromSecondBoot) expect(Number(frame.frames_dropped)).toBe(droppedTotal);
    const storedSecond = readSeen(database).get("bound")?.get(secondBoot) ?? new Set<number>();
    expect([...storedSecond].sort((a, b) => a - b)).toEqual(agent.sampled.boots.get(secondBoot));

    function allLoggedStoredExceptDropped(): boolean {
      const stored = readSeen(database).get("bound")?.get(firstBoot)?.size ?? 0;
      return stored + droppedTotal === (agent.sampled.boots.get(firstBoot)?.length ?? 0);
    }
  });
});
