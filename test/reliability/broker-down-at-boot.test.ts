// A host that boots while the broker is down. READY=1 means sampling and connected (the
// contract), so the unit stays "activating" until the broker answers; meanwhile the agent samples
// and spools, and asks systemd for more start time (EXTEND_TIMEOUT_USEC), so TimeoutStartSec=
// (120 s) does not kill and restart it again and again. A python3 datagram socket stands in for
// systemd's.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mosquittoAvailable } from "../helpers/mosquitto.js";
import { freePort, waitFor } from "../helpers/net.js";
import { type NotifyReceiver, notifyReceiver } from "../helpers/notify-receiver.js";
import { AgentProc } from "./harness/agent-proc.js";
import { BrokerProc } from "./harness/broker-proc.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** An agent started under a stand-in systemd, with a broker port nothing listens on yet. */
async function bootWithBrokerDown(): Promise<{
  dir: string;
  port: number;
  systemd: NotifyReceiver;
  agent: AgentProc;
}> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-broker-down-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const systemd = await notifyReceiver(join(dir, "notify.sock"));
  cleanups.push(() => systemd.stop());
  const port = await freePort();
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  const agent = new AgentProc({
    host: "boot-host",
    brokerUrl: `mqtt://127.0.0.1:${port}`,
    stateDir,
    interval: "200ms",
    env: { NOTIFY_SOCKET: join(dir, "notify.sock") },
  });
  agent.start();
  cleanups.push(() => agent.stop("SIGKILL"));
  return { dir, port, systemd, agent };
}

describe("agent start with the broker down", () => {
  it("asks systemd for more start time while it samples and spools, and is not ready", {
    timeout: 60_000,
  }, async () => {
    const { systemd, agent } = await bootWithBrokerDown();
    await systemd.waitFor("EXTEND_TIMEOUT_USEC=90000000", 30_000);
    expect(systemd.lines.find((l) => l.includes("EXTEND_TIMEOUT_USEC"))).toMatch(
      /STATUS=sampling \d+ GPUs, spooling; waiting for the broker/,
    );
    await waitFor(() => agent.spoolPending().frames >= 3, 20_000, "frames spooled");
    expect(systemd.lines.some((l) => l.includes("READY=1"))).toBe(false);
    expect(agent.output.some((l) => l.includes("ready once the broker connects"))).toBe(true);
  });

  it.skipIf(!mosquittoAvailable())(
    "is ready once the broker comes up, and sends what it spooled",
    {
      timeout: 60_000,
    },
    async () => {
      const { dir, port, systemd, agent } = await bootWithBrokerDown();
      await systemd.waitFor("EXTEND_TIMEOUT_USEC", 30_000);
      await waitFor(() => agent.spoolPending().frames >= 3, 20_000, "frames spooled");
      const broker = new BrokerProc({ dir: join(dir, "broker"), port });
      await broker.start();
      cleanups.push(() => broker.stop());
      await systemd.waitFor("READY=1", 30_000);
      expect(systemd.lines.find((l) => l.includes("READY=1"))).toMatch(
        /STATUS=sampling \d+ GPUs every 200ms/,
      );
      // What waited is sent and acknowledged; the newest frame may be on its way at any moment.
      await waitFor(() => agent.spoolPending().frames <= 1, 20_000, "the spool drained");
    },
  );
});
