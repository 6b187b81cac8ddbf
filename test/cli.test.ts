// The one CLI: help and version on stdout with status 0; unknown commands and options fail.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { assertBuilt, GPUTEL, ROOT } from "./helpers/cli.js";

const run = async (args: string[]) => {
  assertBuilt();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [GPUTEL, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe("gputel CLI", () => {
  it("prints help and version on stdout with status 0", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: gputel <command>/);
    for (const command of ["agent", "collector", "query", "export", "mock-smi"])
      expect(help.stdout).toContain(command);
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^gputel \d+\.\d+\.\d+\n$/);
    for (const command of ["agent", "collector", "query", "export", "mock-smi"]) {
      const sub = await run([command, "--help"]);
      expect(sub.code, `${command} --help`).toBe(0);
      expect(sub.stdout, `${command} --help`).toMatch(/Usage: gputel/);
    }
  });

  it("refuses unknown commands and options with a message and a non-zero status", async () => {
    const unknown = await run(["frobnicate"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    for (const command of ["agent", "collector"]) {
      const bad = await run([command, "--no-such-option"]);
      expect(bad.code, command).toBe(64);
      expect(bad.stderr, command).toMatch(/no-such-option/);
    }
  });

  it("agent --once prints one frame from the real shell-out path and leaves the state directory alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-once-"));
    try {
      const smi = `${GPUTEL} mock-smi --scenario ${join(ROOT, "scenarios/bench-8gpu.yaml")} --`;
      const stateDir = join(dir, "state");
      mkdirSync(stateDir);
      const once = await run(["agent", "--once", "--json", "--nvidia-smi", smi, "--state-dir", stateDir]);
      expect(once.code, once.stderr).toBe(0);
      expect((JSON.parse(once.stdout) as { gpus: unknown[] }).gpus).toHaveLength(8);
      // A person's one look: no saved GPUs (nor anything else) written for the daemon to find.
      expect(readdirSync(stateDir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops start-up on a bad configuration with EX_CONFIG naming the key", async () => {
    const bad = await run(["agent", "--once", "--interval", "5 seconds"]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/interval/);
  });

  it("ends quietly with SIGPIPE's status when its reader has gone (gputel xid parse … | head)", async () => {
    assertBuilt();
    const dump = join(ROOT, "test/fixtures/kernel-log/xid_gpud_dmesg.decode.iso.log.0");
    const child = spawn(process.execPath, [GPUTEL, "xid", "parse", dump, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Closed before the child has even loaded: its first write finds no reader.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(141);
  });
});
