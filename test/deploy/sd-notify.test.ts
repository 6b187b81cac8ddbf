// sd-notify against a real unix datagram socket: a python3 receiver stands in for systemd.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SdNotify, watchdogIntervalMs } from "../../shared/sd-notify.js";
import { type NotifyReceiver, notifyReceiver } from "../helpers/notify-receiver.js";

const receivers: NotifyReceiver[] = [];
afterEach(() => {
  for (const rx of receivers.splice(0)) rx.stop();
});

async function receiver(address: string): Promise<NotifyReceiver> {
  const rx = await notifyReceiver(address);
  receivers.push(rx);
  return rx;
}

describe("SdNotify", () => {
  for (const kind of ["path", "abstract"] as const) {
    it(`delivers READY=1 and WATCHDOG=1 to a ${kind} socket`, async () => {
      const address =
        kind === "path"
          ? join(mkdtempSync(join(tmpdir(), "gputel-notify-")), "notify.sock")
          : `@gputel-test-${process.pid}-${Date.now()}`;
      const rx = await receiver(address);
      const notify = new SdNotify({ env: { ...process.env, NOTIFY_SOCKET: address } });
      expect(notify.enabled).toBe(true);
      expect(await notify.ready("sampling 8 GPUs")).toBe(true);
      await rx.waitFor("READY=1\\nSTATUS=sampling 8 GPUs");
      expect(await notify.watchdog()).toBe(true);
      await rx.waitFor("'WATCHDOG=1'");
    });
  }

  it("is a no-op without NOTIFY_SOCKET", async () => {
    const notify = new SdNotify({ env: {}, command: "/nonexistent/systemd-notify" });
    expect(notify.enabled).toBe(false);
    expect(await notify.ready()).toBe(false);
  });

  it("reports failure when systemd-notify cannot run, and drops a ping while one is in flight", async () => {
    const missing = new SdNotify({
      env: { NOTIFY_SOCKET: "/nonexistent" },
      command: "/nonexistent/systemd-notify",
    });
    expect(await missing.ready()).toBe(false);
    // A stand-in for a systemd-notify that hangs: node running a 5 s timer, killed after 200 ms.
    const lingering = new SdNotify({
      env: { NOTIFY_SOCKET: "/x" },
      command: process.execPath,
      timeoutMs: 200,
    });
    const first = lingering.send(["-e", "setTimeout(() => {}, 5000)"]);
    expect(await lingering.watchdog()).toBe(false);
    expect(await first).toBe(false); // killed by the timeout
  });

  it("derives the ping period from WATCHDOG_USEC for this process only", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  });
});
