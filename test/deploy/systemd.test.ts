// systemd-analyze on the shipped units. systemd 252 takes --threshold as an integer on a 0–100
// scale (exposure × 10; "2.0" fails to parse), so 20 means an exposure of 2.0.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const ANALYZE = "/usr/bin/systemd-analyze";
const present = existsSync(ANALYZE) || spawnSync("systemd-analyze", ["--version"]).status === 0;
if (!present) console.warn("systemd-analyze is absent: the unit checks are skipped");

const UNITS = ["gputel-agent.service", "gputel-collector.service"];

function analyze(args: string[]) {
  const run = spawnSync(existsSync(ANALYZE) ? ANALYZE : "systemd-analyze", args, { encoding: "utf8" });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

function exposure(unit: string): number {
  const { out } = analyze(["security", "--offline=true", join(root, "systemd", unit)]);
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
  if (!match) throw new Error(`no exposure in: ${out}`);
  return Number(match[1]);
}

describe.skipIf(!present)("systemd units", () => {
  for (const unit of UNITS) {
    it(`${unit}: security exposure ≤ 2.0`, () => {
      const { status, out } = analyze([
        "security",
        "--offline=true",
        "--threshold=20",
        join(root, "systemd", unit),
      ]);
      expect(status, out).toBe(0);
      expect(exposure(unit)).toBeLessThanOrEqual(2.0);
    });

    it(`${unit}: verify passes without warnings`, () => {
      // verify needs ExecStart's binary: point a copy of the unit at a stand-in executable.
      const dir = mkdtempSync(join(tmpdir(), "gputel-unit-"));
      const bin = join(dir, "gputel");
      writeFileSync(bin, "#!/bin/sh\nexit 0\n");
      chmodSync(bin, 0o755);
      const text = readFileSync(join(root, "systemd", unit), "utf8");
      expect(text).toContain("ExecStart=/usr/bin/gputel ");
      writeFileSync(join(dir, unit), text.replaceAll("/usr/bin/gputel", bin));
      const { status, out } = analyze(["verify", join(dir, unit)]);
      expect(status, out).toBe(0);
      expect(out.trim()).toBe("");
    });
  }

  it("the threshold check fails a unit that is not hardened", () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-unit-"));
    writeFileSync(join(dir, "plain.service"), "[Service]\nExecStart=/bin/true\n");
    expect(
      analyze(["security", "--offline=true", "--threshold=20", join(dir, "plain.service")]).status,
    ).not.toBe(0);
  });
});

describe("unit contents", () => {
  const agent = readFileSync(join(root, "systemd/gputel-agent.service"), "utf8");
  const collector = readFileSync(join(root, "systemd/gputel-collector.service"), "utf8");

  it("both: notify with watchdog, restart except on EX_CONFIG, unprivileged user, directories", () => {
    for (const text of [agent, collector]) {
      for (const line of [
        "Type=notify",
        "NotifyAccess=all",
        "Restart=on-failure",
        "RestartPreventExitStatus=78",
        "User=gputel",
        "ConfigurationDirectory=gputel",
      ]) {
        expect(text).toContain(`\n${line}\n`);
      }
      expect(text).toMatch(/\nWatchdogSec=\d+s\n/);
      expect(text).toMatch(/\nStateDirectory=gputel-(agent|collector)\n/);
      expect(text).not.toMatch(/\nMemoryDenyWriteExecute=yes/);
    }
  });

  it("the agent reaches the NVIDIA devices and nothing else", () => {
    expect(agent).not.toMatch(/\nPrivateDevices=yes/);
    for (const line of [
      "DevicePolicy=closed",
      "DeviceAllow=char-nvidia-frontend rw",
      "DeviceAllow=char-nvidia-uvm rw",
      "DeviceAllow=/dev/nvidiactl rw",
      "DeviceAllow=/dev/nvidia-uvm rw",
    ]) {
      expect(agent).toContain(`\n${line}\n`);
    }
  });

  it("the agent's NODE_OPTIONS are flags Node accepts there (a refused one stops every start)", () => {
    const match = /\nEnvironment="?NODE_OPTIONS=([^"\n]*)"?\n/.exec(agent);
    expect(match, "the agent unit sets NODE_OPTIONS").not.toBeNull();
    const options = match?.[1] ?? "";
    expect(options).toContain("--jitless");
    expect(options).toContain("--max-semi-space-size=1");
    const run = spawnSync(process.execPath, ["-e", "process.stdout.write('ran')"], {
      env: { ...process.env, NODE_OPTIONS: options },
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe("ran");
  });

  it("systemd-notify exists where systemd does (sd-notify relies on it)", () => {
    if (!present) return;
    expect(() => execFileSync("systemd-notify", ["--help"], { stdio: "ignore" })).not.toThrow();
  });
});
