// SIGTERM and SIGINT together (systemd's stop while a terminal's Ctrl-C reaches the process
// group, as `npm start` gets): the real `gputel collector` and `gputel agent` children stop once,
// cleanly, with exit code 0 and nothing thrown after the database is closed.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { storedCount } from "./harness/audit.js";
import { CollectorProc } from "./harness/collector-proc.js";
import { Harness } from "./harness/setup.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const CRASH = /TypeError|not open|Unhandled|uncaught/i;

describe("two stop signals at once", () => {
  it("collector and agent each stop once, exit 0, nothing thrown", { timeout: 60_000 }, async () => {
    h = new Harness();
    const harness = h;
    const mqttPort = await freePort();
    const database = join(harness.dir, "collector.db");
    const collector = new CollectorProc({ database, mqttPort, httpPort: await freePort() });
    harness.onCleanup(() => collector.stop("SIGKILL"));
    await collector.start();
    const agent = harness.agent("twosig-a", `mqtt://127.0.0.1:${mqttPort}`);
    agent.start();
    await waitFor(() => storedCount(database, ["twosig-a"]) >= 5, 30_000, "frames stored");

    const agentExit = agent.stop("SIGTERM");
    void agent.stop("SIGINT");
    expect(await agentExit).toBe(0);
    expect(agent.output.filter((line) => CRASH.test(line))).toEqual([]);

    const collectorExit = collector.stop("SIGTERM");
    void collector.stop("SIGINT");
    expect(await collectorExit).toBe(0);
    expect(collector.output.filter((line) => CRASH.test(line))).toEqual([]);
    expect(collector.output.filter((line) => line.includes('"msg":"Stopping"'))).toHaveLength(1);
  });
});
