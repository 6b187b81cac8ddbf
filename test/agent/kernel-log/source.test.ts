// The kernel-log source with a real reader child (`gputel mock-kmsg --follow`, raw /dev/kmsg
// records or journal JSON) and a hand-advanced clock: events mapped to GPUs by bus id (an unknown
// bus id still reported, unmapped), the position saved once the sink has stored an event, a
// restart resuming without duplicates, a new boot starting afresh, a reader that exits relaunched.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KernelLogSource } from "../../../agent/sources/kernel-log/source.js";
import type { EventSink } from "../../../agent/sources/source.js";
import { silentLogger } from "../../../shared/logger.js";
import { EventKind, type IHealthEvent } from "../../../shared/proto.js";
import { assertBuilt, GPUTEL } from "../../helpers/cli.js";
import { waitFor } from "../../helpers/net.js";
import { FakeClock } from "../supervisor/fake-clock.js";

const BOOT_A = "8c1f0a52-0d4e-4b7f-9a55-3f1e2d3c4b5a";
const BOOT_B = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";
// Two Xids long due: GPU 1 falls off the bus at 30 s, GPU 0's program faults at 2 min.
const SCENARIO = (extra = "") => `
start: 2026-07-14T08:00:00Z
hosts:
  - name: klog-host
    gpus:
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 2m, code: 13, pid: 31337, name: python3 }${extra}
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 30s, code: 79 }
`;

const dirs: string[] = [];
const sources: KernelLogSource[] = [];
afterEach(async () => {
  for (const source of sources.splice(0)) await source.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gputel-klog-"));
  dirs.push(dir);
  return dir;
}

interface Setup {
  scenario: string;
  stateDir: string;
  bootIdFile: string;
  format?: "kmsg" | "json";
}

function setup(): Setup {
  const dir = tempDir();
  const scenario = join(dir, "scenario.yaml");
  writeFileSync(scenario, SCENARIO());
  const bootIdFile = join(dir, "boot_id");
  writeFileSync(bootIdFile, `${BOOT_A}\n`);
  writeFileSync(join(dir, "uptime"), "1000.00 2000.00\n");
  return { scenario, stateDir: dir, bootIdFile };
}

/** Only GPU 0 is known: GPU 1's bus id (0000:2a:00) is not in this inventory. */
function sinkInto(events: IHealthEvent[], accept = () => true): EventSink {
  return {
    publish: (list) => {
      if (!accept()) return false;
      events.push(...list);
      return true;
    },
    gpus: () => [{ index: 0, uuid: "GPU-zero", pciBusId: "00000000:18:00.0" }],
  };
}

async function startSource(s: Setup, events: IHealthEvent[], clock = new FakeClock()) {
  const source = new KernelLogSource({
    command: [
      process.execPath,
      GPUTEL,
      "mock-kmsg",
      "--scenario",
      s.scenario,
      "--format",
      s.format ?? "kmsg",
      "--follow",
    ],
    stateDirectory: s.stateDir,
    logger: silentLogger(),
    clock,
    ...(s.format === "json" ? {} : { bootIdFile: s.bootIdFile }),
    uptimeFile: join(s.stateDir, "uptime"),
  });
  sources.push(source);
  await source.start(sinkInto(events));
  return { source, clock };
}

describe("kernel-log source", () => {
  it("reports each Xid once, mapped by bus id, an unknown bus id unmapped; saves the position", async () => {
    assertBuilt();
    const s = setup();
    const events: IHealthEvent[] = [];
    const { clock } = await startSource(s, events);
    await waitFor(() => events.length >= 2, 15_000, "two events");
    const [lost, fault] = events;
    expect(lost).toMatchObject({
      kind: EventKind.EVENT_KIND_XID,
      code: 79,
      pci_bus_id: "0000:2a:00",
      gpu_uuid: "",
      kernel_boot_id: BOOT_A,
      source: "kmsg",
      message: "GPU has fallen off the bus.",
    });
    expect(lost?.gpu_index ?? undefined).toBeUndefined();
    expect(lost?.pid ?? undefined).toBeUndefined();
    expect(fault).toMatchObject({
      code: 13,
      pci_bus_id: "0000:18:00",
      gpu_uuid: "GPU-zero",
      gpu_index: 0,
      pid: 31337,
      process_name: "python3",
    });
    // kmsg time: boot time (clock now - /proc/uptime) plus the record's monotonic stamp.
    const bootMs = clock.now() - 1_000_000;
    expect(Number(fault?.time_ms)).toBe(bootMs + (120 + 120) * 1000);
    // The `NVRM: GPU at PCI:…` header lines take sequence numbers too: 1000 and 1002 are headers.
    expect(events.map((e) => Number(e.kernel_seq))).toEqual([1001, 1003]);
    const saved = JSON.parse(readFileSync(join(s.stateDir, "kernel-log.json"), "utf8"));
    expect(saved).toEqual({ boot_id: BOOT_A, seq: 1003 });
  });

  it("resumes after a restart without duplicates; a new boot starts afresh", async () => {
    assertBuilt();
    const s = setup();
    const first: IHealthEvent[] = [];
    const run1 = await startSource(s, first);
    await waitFor(() => first.length >= 2, 15_000, "two events");
    await run1.source.stop();

    // One more Xid, later than the others: the reader replays everything, only it is new.
    writeFileSync(s.scenario, SCENARIO("\n          - { at: 3m, code: 31 }"));
    const second: IHealthEvent[] = [];
    await startSource(s, second);
    await waitFor(() => second.length >= 1, 15_000, "the new event");
    expect(second.map((e) => e.code)).toEqual([31]);
    await sources.at(-1)?.stop();

    // The machine rebooted: the same sequence numbers are a new boot's records, all new.
    writeFileSync(s.bootIdFile, `${BOOT_B}\n`);
    const third: IHealthEvent[] = [];
    await startSource(s, third);
    await waitFor(() => third.length >= 3, 15_000, "the new boot's events");
    expect(third.map((e) => e.code)).toEqual([79, 13, 31]);
    expect(new Set(third.map((e) => e.kernel_boot_id))).toEqual(new Set([BOOT_B]));
  });

  it("an event the sink cannot store is not skipped: the position stays, the log is read again", async () => {
    assertBuilt();
    const s = setup();
    const events: IHealthEvent[] = [];
    let refuse = true;
    const clock = new FakeClock();
    const source = new KernelLogSource({
      command: [process.execPath, GPUTEL, "mock-kmsg", "--scenario", s.scenario, "--follow"],
      stateDirectory: s.stateDir,
      logger: silentLogger(),
      clock,
      bootIdFile: s.bootIdFile,
    });
    sources.push(source);
    await source.start(sinkInto(events, () => !refuse));
    await waitFor(() => source.health().lastError.includes("spool"), 15_000, "the refusal");
    expect(events).toEqual([]);
    refuse = false;
    // The reader is relaunched after backoff (the fake clock's), and reads the log again.
    await waitFor(
      () => {
        clock.advance(5_000);
        return events.length >= 2;
      },
      15_000,
      "both events after the relaunch",
    );
    expect(events.map((e) => e.code)).toEqual([79, 13]);
  });

  it("reads journalctl JSON: the journal's boot id, sequence number and wall-clock time", async () => {
    assertBuilt();
    const s = { ...setup(), format: "json" as const };
    const events: IHealthEvent[] = [];
    await startSource(s, events);
    await waitFor(() => events.length >= 2, 15_000, "two events");
    expect(events.map((e) => [e.code, e.source, Number(e.kernel_seq)])).toEqual([
      [79, "journal", 1001],
      [13, "journal", 1003],
    ]);
    expect(Number(events[1]?.time_ms)).toBe(Date.parse("2026-07-14T08:02:00Z"));
    const machineBoot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    expect(events[0]?.kernel_boot_id).toBe(machineBoot);
  });

  it("plain log lines of a relaunched reader never take an earlier run's (boot, seq) key", async () => {
    // `tail -F /var/log/kern.log` has no position: each run starts at its first line again. The
    // collector stores one event per (host, boot, seq), so a new Xid keyed like an old one is lost.
    const s = setup();
    const runs = join(s.stateDir, "runs");
    const script = [
      `n=$(cat ${runs} 2>/dev/null || echo 0); echo $((n + 1)) > ${runs}`,
      `if [ "$n" = 0 ]; then echo 'Dec  2 11:38:47 worker4 kernel: NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.'`,
      `else echo 'Dec  2 11:52:03 worker4 kernel: NVRM: Xid (PCI:0000:18:00): 13, pid=9, name=a, Ch 00000008'; fi`,
      // dmesg's stamp is the kernel's own position: the same line read again keeps its key.
      "echo '[  219.470994] NVRM: Xid (PCI:0000:18:00): 48, pid=<unknown>, name=<unknown>, DBE'",
    ].join("\n");
    const clock = new FakeClock();
    const events: IHealthEvent[] = [];
    const source = new KernelLogSource({
      command: ["sh", "-c", script],
      stateDirectory: s.stateDir,
      logger: silentLogger(),
      clock,
      bootIdFile: s.bootIdFile,
    });
    sources.push(source);
    await source.start(sinkInto(events));
    await waitFor(() => events.length >= 2, 10_000, "the first run's events");
    await waitFor(
      () => {
        clock.advance(5_000);
        return events.length >= 4;
      },
      10_000,
      "the relaunched reader's events",
    );
    expect(events.map((e) => [e.code, e.source])).toEqual([
      [79, "file"],
      [48, "file"],
      [13, "file"],
      [48, "file"],
    ]);
    const key = (e: IHealthEvent | undefined) => `${e?.kernel_boot_id}/${Number(e?.kernel_seq)}`;
    const [lost, dbe, fault, dbeAgain] = events;
    expect(new Set([key(lost), key(dbe), key(fault)]).size).toBe(3);
    expect(key(dbeAgain)).toBe(key(dbe));
  });

  it("a reader that exits is counted and relaunched after backoff", async () => {
    const s = setup();
    const clock = new FakeClock();
    const source = new KernelLogSource({
      command: ["sh", "-c", "echo 'journalctl: no access' >&2; exit 1"],
      stateDirectory: s.stateDir,
      logger: silentLogger(),
      clock,
      bootIdFile: s.bootIdFile,
    });
    sources.push(source);
    await source.start(sinkInto([]));
    await waitFor(() => source.health().exits >= 1, 10_000, "the exit");
    expect(source.health().lastError).toContain("no access");
    clock.advance(60_000);
    await waitFor(() => source.health().exits >= 2, 10_000, "the relaunched reader's exit");
    expect(source.health().restarts).toBeGreaterThanOrEqual(1);
  });
});
