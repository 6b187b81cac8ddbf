// SIGTERM while nvidia-smi hangs (a wedged driver: every command, one-shots included, answers
// nothing): the agent waits its bounded drain for the one-shots, then kills them and runs no
// queued one, instead of waiting for each queued one-shot (compute apps, the 30 s inventory) to
// run into its timeout in turn (40 s); none is left behind.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAedes } from "../helpers/aedes.js";
import { spawnGputel } from "../helpers/cli.js";
import { waitFor } from "../helpers/net.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("agent stop with a hung nvidia-smi", () => {
  it("exits 0 within the drain bound of SIGTERM and leaves no nvidia-smi child", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-stop-hung-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pids = join(dir, "pids");
    const smi = join(dir, "nvidia-smi");
    writeFileSync(smi, `#!/bin/sh\necho $$ >> ${pids}\nexec sleep 600\n`);
    chmodSync(smi, 0o755);
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const agent = spawnGputel([
      "agent",
      "--nvidia-smi",
      smi,
      "--broker",
      broker.url,
      "--host",
      "hung-host",
      "--interval",
      "1s",
      "--state-dir",
      join(dir, "state"),
    ]);
    cleanups.push(async () => {
      agent.child.kill("SIGKILL");
      await agent.exited;
    });
    // Start-up waits for --help-query-gpu to time out (10 s); then the inventory's -q -x is queued.
    await waitFor(() => agent.output().includes('"msg":"Agent started"'), 30_000, "the agent started");

    const started = Date.now();
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    // The source waits at most its drain bound (the one-shot timeout, 10 s, + 1 s) for running
    // one-shots; the margin is for a loaded machine, still far below the 40 s of one queued
    // one-shot after another running into its timeout.
    expect(Date.now() - started).toBeLessThan(25_000);
    const spawned = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    expect(spawned.length).toBeGreaterThan(0);
    await waitFor(() => spawned.every((pid) => !alive(pid)), 5_000, "every nvidia-smi child gone");
  });
});
