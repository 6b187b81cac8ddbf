// Collector SIGKILLed under load with its embedded broker (PUBACK = committed): after a restart
// on the same database and port, every frame the agents sampled is stored exactly once; the
// agents' spools re-send whatever was never acknowledged. (test/collector/ingest/kill.test.ts
// covers the external-broker mode with synthetic publishers.)
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { storedCount } from "./harness/audit.js";
import { CollectorProc } from "./harness/collector-proc.js";
import { assertAllStoredOnce, Harness, waitAllStored } from "./harness/setup.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("collector SIGKILL under load (embedded broker)", () => {
  it("stores every sampled frame exactly once after a restart", { timeout: 150_000 }, async () => {
    h = new Harness();
    const harness = h;
    const mqttPort = await freePort();
    const database = join(harness.dir, "collector.db");
    const collector = new CollectorProc({ database, mqttPort, httpPort: await freePort() });
    harness.onCleanup(() => collector.stop("SIGKILL"));
    await collector.start();

    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const agents = ["ckill-a", "ckill-b", "ckill-c"].map((host) =>
      harness.agent(host, url, { interval: "100ms" }),
    );
    for (const agent of agents) agent.start();
    const hosts = agents.map((a) => a.spec.host);
    await waitFor(() => storedCount(database, hosts) >= 60, 60_000, "frames stored before the kill");

    expect(await collector.stop("SIGKILL")).toBeNull();
    const atKill = agents.map((a) => a.totalSampled);
    // The agents keep sampling into their spools while the collector is gone.
    await waitFor(
      () => agents.every((a, i) => a.totalSampled >= (atKill[i] as number) + 15),
      30_000,
      "frames sampled while the collector is down",
    );
    expect(storedCount(database, hosts)).toBeLessThan(agents.reduce((n, a) => n + a.totalSampled, 0));

    await collector.start();
    await waitAllStored(database, agents, 60_000, "everything sampled so far stored");
    for (const agent of agents) expect(await agent.stop("SIGTERM")).toBe(0);
    await waitAllStored(database, agents, 30_000, "the last frames stored");
    expect(await collector.stop("SIGTERM")).toBe(0);

    for (const agent of agents) expect(agent.bootIds).toHaveLength(1);
    const result = assertAllStoredOnce(database, agents);
    expect(result.problems).toEqual([]);
    expect(result.stored).toBe(result.sampled);
  });
});
