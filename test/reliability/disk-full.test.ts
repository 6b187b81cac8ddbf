// Disk full on the collector, simulated with SQLite's max_page_count on the store's connection:
// commits fail, nothing is acknowledged (the agents keep the frames in their spools), the
// collector keeps running, and once space is back ingest resumes by itself: every frame once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { readSeen, storedCount } from "./harness/audit.js";
import { assertAllStoredOnce, Harness, waitAllStored } from "./harness/setup.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("collector disk full", () => {
  it("holds acknowledgements back while it cannot write, then resumes by itself", {
    timeout: 150_000,
  }, async () => {
    h = new Harness();
    const harness = h;
    const port = await freePort();
    const database = join(harness.dir, "collector.db");
    const collector = await harness.collector(database, { port });
    const agents = ["full-a", "full-b"].map((host) => harness.agent(host, `mqtt://127.0.0.1:${port}`));
    for (const agent of agents) agent.start();
    const hosts = agents.map((a) => a.spec.host);
    await waitFor(() => storedCount(database, hosts) >= 20, 60_000, "frames stored before the disk fills");

    const db = collector.store.db;
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
    await waitFor(() => collector.pipeline.snapshot().storeFailing, 60_000, "commits failing");
    const atFull = agents.map((a) => a.totalSampled);
    await waitFor(
      () => agents.every((a, i) => a.totalSampled >= (atFull[i] as number) + 80),
      60_000,
      "frames sampled while the disk is full",
    );
    // Nothing unstored was acknowledged: every frame sampled and not in the database is still
    // in its agent's spool.
    const seen = readSeen(database);
    for (const agent of agents) {
      const sampled = agent.totalSampled;
      let stored = 0;
      for (const seqs of seen.get(agent.spec.host)?.values() ?? []) stored += seqs.size;
      const { frames } = agent.spoolPending();
      expect(sampled - stored).toBeGreaterThanOrEqual(80);
      expect(frames).toBeGreaterThanOrEqual(sampled - stored);
    }
    expect(collector.pipeline.snapshot().storeFailures).toBeGreaterThan(0);

    db.pragma("max_page_count = 1073741823");
    await waitAllStored(database, agents, 90_000, "the held-back frames stored");
    expect(collector.pipeline.snapshot().storeFailing).toBe(false);
    for (const agent of agents) expect(await agent.stop("SIGTERM")).toBe(0);
    await waitAllStored(database, agents, 30_000, "the last frames stored");
    await collector.stop();

    const result = assertAllStoredOnce(database, agents);
    expect(result.problems).toEqual([]);
    expect(result.stored).toBe(result.sampled);
  });
});
