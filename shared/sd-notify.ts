// systemd readiness and watchdog notifications without native code.
// Node has no unix datagram sockets (dgram speaks udp4/udp6 only), and the npm packages that
// send to $NOTIFY_SOCKET directly (sd-notify, notify) are native addons. So we run the
// `systemd-notify` tool that ships with systemd: the message then comes from a child process,
// which systemd accepts only with NotifyAccess=all (set in both units). Since systemd 246
// systemd-notify waits on a barrier until PID 1 has processed the message, so the child cannot
// exit before systemd attributes it to our unit (the race sd_notify(3) describes).
import { spawn } from "node:child_process";

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** The systemd-notify executable (tests may point elsewhere). */
  command?: string;
  /** Kill a notify child that has not finished after this long (the barrier's own timeout is 5 s). */
  timeoutMs?: number;
}

/** The watchdog ping period: half of WatchdogSec=, when the watchdog is meant for this process. */
export function watchdogIntervalMs(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SdNotify {
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private readonly timeoutMs: number;
  private inFlight: Promise<boolean> | undefined;

  constructor(options: SdNotifyOptions = {}) {
    this.env = options.env ?? process.env;
    this.command = options.command ?? "systemd-notify";
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** False when not started by systemd with Type=notify (no $NOTIFY_SOCKET): every call is a no-op. */
  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  ready(status?: string): Promise<boolean> {
    return this.send(["READY=1", ...(status ? [`STATUS=${status}`] : [])]);
  }

  /**
   * One watchdog ping. While an earlier ping is still on its way, this one is dropped rather than
   * queued: a wedged systemd-notify must not pile up children.
   */
  watchdog(): Promise<boolean> {
    if (this.inFlight) return Promise.resolve(false);
    return this.send(["WATCHDOG=1"]);
  }

  status(text: string): Promise<boolean> {
    return this.send([`STATUS=${text}`]);
  }

  /**
   * Still starting: systemd waits `ms` more from now before it fails the start
   * (EXTEND_TIMEOUT_USEC, systemd 236 and later), with `status` to show why.
   */
  extendStartTimeout(ms: number, status: string): Promise<boolean> {
    return this.send([`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`, `STATUS=${status}`]);
  }

  stopping(): Promise<boolean> {
    return this.send(["STOPPING=1"]);
  }

  /** Sends VAR=VALUE assignments in one datagram; resolves true when systemd-notify succeeded. */
  send(assignments: readonly string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const run = this.spawnNotify(assignments).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private spawnNotify(assignments: readonly string[]): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawn(this.command, [...assignments], { env: this.env, stdio: "ignore" });
      const timer = setTimeout(() => child.kill("SIGKILL"), this.timeoutMs);
      child.once("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
  }
}
