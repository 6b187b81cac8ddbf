// Scenario mode with an injected clock: values follow the patterns, faults happen at their time.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mockSmi, SCENARIO_DIR } from "./helpers.js";

const PATTERNS = join(SCENARIO_DIR, "test-patterns.yaml");
const FAULTS = join(SCENARIO_DIR, "test-faults.yaml");
const EPOCH = Date.parse("2026-07-14T08:00:00Z");
const at = (seconds: number) => () => EPOCH + seconds * 1000;

/** Runs a loop on a fake clock: every sleep advances it; `stopAfter` writes end the run. */
async function loop(
  args: string[],
  startS: number,
  stopAfter: number,
  onSleep?: (calls: number, stop: () => void) => void,
) {
  let clock = EPOCH + startS * 1000;
  let sleeps = 0;
  const controller = new AbortController();
  const stop = () => controller.abort();
  return mockSmi(args, {
    now: () => clock,
    signal: controller.signal,
    sleep: async (ms) => {
      clock += ms;
      onSleep?.(++sleeps, stop);
    },
    onWrite: (writes) => writes.length >= stopAfter && stop(),
  });
}

describe("scenario values follow their patterns", () => {
  const query = [
    "--query-gpu=index,utilization.gpu,temperature.gpu,power.draw,memory.used",
    "--format=csv,noheader,nounits",
  ];

  it.each([
    [15, "0, 100, 45, 100.00, 0"],
    [42, "0, 2, 72, 600.00, 1000"],
    [95, "0, 25, 90, 100.00, 5000"],
  ])("at t=%is GPU 0 reads %s", async (t, line) => {
    const r = await mockSmi(["--scenario", PATTERNS, "--", ...query, "-i", "0"], { now: at(t) });
    expect(r).toMatchObject({ code: 0, stdout: `${line}\n` });
  });

  it("prints [N/A] and raw spellings where the scenario says so, [N/A] utilization under MIG", async () => {
    const r = await mockSmi(
      [
        "--scenario",
        PATTERNS,
        "--",
        "--query-gpu=index,clocks.sm,power.draw,temperature.gpu,utilization.gpu,mig.mode.current",
        "--format=csv",
      ],
      { now: at(10) },
    );
    expect(r.stdout.split("\n").slice(2, 4)).toEqual([
      "1, [N/A], [Unknown Error], ERR!, 50 %, [N/A]",
      "2, 210 MHz, 62.00 W, 30, [N/A], Enabled",
    ]);
  });

  it("lists compute processes and MIG devices", async () => {
    const apps = await mockSmi(
      ["--scenario", PATTERNS, "--", "--query-compute-apps=gpu_bus_id,pid,name,used_memory", "--format=csv"],
      { now: at(10) },
    );
    expect(apps.stdout).toBe(
      "gpu_bus_id, pid, process_name, used_gpu_memory [MiB]\n00000000:18:00.0, 4242, python3, 1000 MiB\n",
    );
    const list = await mockSmi(["--scenario", PATTERNS, "--", "-L"], { now: at(10) });
    expect(list.stdout.split("\n")).toHaveLength(6);
    expect(list.stdout).toMatch(
      /^GPU 2: NVIDIA A100-SXM4-80GB \(UUID: GPU-[0-9a-f-]{36}\)\n {2}MIG 3g\.40gb {5}Device {2}0: \(UUID: MIG-/m,
    );
  });

  it("-lms 100 prints one line per GPU per iteration, one write per iteration", async () => {
    const r = await loop(
      ["--scenario", PATTERNS, "--", "--query-gpu=timestamp,index", "--format=csv,noheader", "-lms", "100"],
      10,
      3,
    );
    expect(r.writes).toHaveLength(3);
    r.writes.forEach((write, i) => {
      const lines = write.trimEnd().split("\n");
      expect(lines.map((l) => l.split(", ")[1])).toEqual(["0", "1", "2"]);
      expect(new Set(lines.map((l) => l.split(", ")[0])).size).toBe(1);
      expect(lines[0]).toMatch(new RegExp(`\\.${String(i * 100).padStart(3, "0")}, 0$`));
    });
  });
});

describe("scenario faults happen at their time", () => {
  const query = ["--query-gpu=index,temperature.gpu", "--format=csv,noheader"];

  it("a lost GPU: the device-handle line first, its row missing, the others still reported", async () => {
    expect(
      (await mockSmi(["--scenario", FAULTS, "--", ...query], { now: at(29) })).stdout.split("\n"),
    ).toHaveLength(5);
    const r = await loop(["--scenario", FAULTS, "--", ...query, "-lms", "500"], 29, 3);
    const third = r.writes[2]?.split("\n") ?? [];
    expect(r.writes[1]?.split("\n")).toHaveLength(5);
    expect(third[0]).toBe("Unable to determine the device handle for GPU3: 0000:5D:00.0: Unknown Error");
    expect(third.slice(1, 4).map((l) => l.split(", ")[0])).toEqual(["0", "1", "2"]);
    const alone = await mockSmi(["--scenario", FAULTS, "--", ...query, "-i", "3"], { now: at(31) });
    expect(alone).toMatchObject({
      code: 15,
      stdout: "Unable to determine the device handle for GPU3: 0000:5D:00.0: Unknown Error\n",
    });
  });

  it("hang_at: output stops and the process neither prints nor exits", async () => {
    const r = await loop(
      ["--scenario", FAULTS, "--host-index", "1", "--", ...query, "-l", "1"],
      58,
      99,
      (calls, stop) => {
        // The next health check is at t=60: release the hang (a kill, for a real process) once the
        // engine is parked in it; without the hang a third line would be written first.
        if (calls === 2) setImmediate(stop);
      },
    );
    expect(r.writes).toHaveLength(2);
  });

  it("crash_at: exits non-zero at T", async () => {
    const r = await loop(["--scenario", FAULTS, "--host-index", "2", "--", ...query, "-l", "1"], 58, 99);
    expect(r.code).toBe(139);
    expect(r.writes).toHaveLength(2);
    expect(
      (await mockSmi(["--scenario", FAULTS, "--host-index", "2", "--", "-L"], { now: at(61) })).code,
    ).toBe(139);
  });

  it("slow_start: waits before the first output", async () => {
    const slept: number[] = [];
    let writesSoFar = 0;
    const r = await mockSmi(["--scenario", FAULTS, "--host-index", "3", "--", "--version"], {
      now: at(0),
      sleep: async (ms) => {
        expect(writesSoFar).toBe(0);
        slept.push(ms);
      },
      onWrite: () => {
        writesSoFar++;
      },
    });
    expect(slept).toEqual([2000]);
    expect(r.stdout).toMatch(/^NVIDIA-SMI version {2}: 590\.48\.01\n/);
  });

  it("driver_not_loaded and no_devices answer like the real tool", async () => {
    const driver = await mockSmi(["--scenario", FAULTS, "--host-index", "4", "--", ...query], { now: at(0) });
    expect(driver.code).toBe(9);
    expect(driver.stdout).toBe(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
    );
    const none = await mockSmi(["--scenario", FAULTS, "--host-index", "5", "--", "-L"], { now: at(0) });
    expect(none).toMatchObject({ code: 6, stdout: "No devices were found\n" });
  });

  it("an old driver knows only clocks_throttle_reasons.*", async () => {
    const args = ["--scenario", FAULTS, "--host-index", "6", "--"];
    const fresh = await mockSmi([...args, "--query-gpu=clocks_event_reasons.active", "--format=csv"], {
      now: at(0),
    });
    expect(fresh).toMatchObject({
      code: 2,
      stdout: 'Field "clocks_event_reasons.active" is not a valid field to query.\n\n',
    });
    const old = await mockSmi([...args, "--query-gpu=clocks_throttle_reasons.active", "--format=csv"], {
      now: at(0),
    });
    expect(old.stdout).toBe("clocks_throttle_reasons.active\n0x0000000000000001\n0x0000000000000001\n");
    const help = await mockSmi([...args, "--help-query-gpu"], { now: at(0) });
    expect(help.stdout).toContain('\n"clocks_throttle_reasons.active"\n');
    expect(help.stdout).not.toContain("clocks_event_reasons");
  });
});

describe("scenario clock and validation", () => {
  const savedTmp = process.env.TMPDIR;
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it("without start, the first invocation sets time zero and later ones share it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mock-smi-epoch-"));
    process.env.TMPDIR = dir;
    const file = join(dir, "epoch.yaml");
    writeFileSync(file, "gpus: [{ model: NVIDIA L40S, utilization: [[0, 10], [60, 90]] }]\n");
    const args = ["--scenario", file, "--", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"];
    expect((await mockSmi(args, { now: () => 5_000_000 })).stdout).toBe("10\n");
    expect((await mockSmi(["--scenario", file, "--", "-L"], { now: () => 5_030_000 })).code).toBe(0);
    expect((await mockSmi(args, { now: () => 5_059_000 })).stdout).toBe("10\n");
    expect((await mockSmi(args, { now: () => 5_061_000 })).stdout).toBe("90\n");
  });

  it("reports every invalid key with its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mock-smi-invalid-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      [
        "hosts:",
        "  - faults: { hang_at: soon }",
        "    gpus:",
        "      - { model: NVIDIA H200, utilization: { sine: { min: 0, max: 100 } } }",
        "      - { model: NVIDIA L40S, colour: red, mig: [1g.10gb] }",
      ].join("\n"),
    );
    const r = await mockSmi(["--scenario", file, "--", "-L"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("hosts[0].faults.hang_at: expected seconds or a duration");
    expect(r.stderr).toContain("hosts[0].gpus[0].model: unknown model 'NVIDIA H200'");
    expect(r.stderr).toContain("hosts[0].gpus[0].utilization.sine.period: expected seconds");
    expect(r.stderr).toContain("hosts[0].gpus[1].colour: unknown key");
    expect(r.stderr).toContain("hosts[0].gpus[1].mig: NVIDIA L40S has no MIG");
  });

  it("refuses bad mock-smi options with usage", async () => {
    expect((await mockSmi(["--", "-L"])).code).toBe(64);
    expect((await mockSmi(["--scenario", PATTERNS, "--host-index", "9", "--", "-L"])).stderr).toContain(
      "has 1 host(s)",
    );
    expect((await mockSmi(["--help"])).stdout).toMatch(/^Usage: gputel mock-smi/);
  });
});
