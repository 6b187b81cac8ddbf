// The agent's systemd watchdog pings come from a timer on its event loop, not from its frames: an
// interval longer than the watchdog's period (here 10 s against WatchdogSec=2s) must not get a
// healthy agent killed. A python3 datagram socket stands in for systemd's.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { notifyReceiver } from "../helpers/notify-receiver.js";
import { AgentProc } from "./harness/agent-proc.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("agent watchdog", () => {
  it("pings every half WatchdogSec= between frames 10 s apart", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-watchdog-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, "notify.sock");
    const systemd = await notifyReceiver(socket);
    cleanups.push(() => systemd.stop());
    const stateDir = join(dir, "state");
    mkdirSync(stateDir);
    const agent = new AgentProc({
      host: "slow-host",
      brokerUrl: `mqtt://127.0.0.1:${await freePort()}`,
      stateDir,
      interval: "10s",
      env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: "2000000" },
    });
    agent.start();
    cleanups.push(() => agent.stop("SIGKILL"));
    await waitFor(
      () => agent.output.some((l) => l.includes("Sampling and spooling")),
      20_000,
      "a first frame",
    );
    const pings = () => systemd.lines.filter((l) => l.includes("WATCHDOG=1")).length;
    const before = pings();
    // Within one interval (no frame), a ping a second: systemd would kill after 2 s without one.
    await waitFor(() => pings() >= before + 3, 8_000, "three more watchdog pings before the next frame");
    expect(agent.spoolPending().frames).toBeLessThanOrEqual(2);
  });
});
