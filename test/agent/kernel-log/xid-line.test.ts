// The kernel-log parser over every real fixture (test/fixtures/kernel-log/, provenance in its
// README): each `NVRM: Xid` line gives exactly one event with the right code, bus id, pid and
// name; SXid lines are NVSwitch events; continuation lines give nothing; times read where printed.
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type KernelLogEvent,
  parseKernelLog,
  parseKernelLogLine,
  type XidLineEvent,
} from "../../../agent/sources/kernel-log/xid-line.js";

const DIR = new URL("../../fixtures/kernel-log/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, DIR), "utf8");

interface Expected {
  /** Xid codes in order, as runs: [code, how many]. */
  codes: [number, number][];
  /** Codes interleaved: compare counts per code instead of the order. */
  unordered?: boolean;
  busIds: string[];
  /** [pid, name] per event, in order; omitted: all null. */
  pidNames?: [number | null, string | null][];
  sxid?: number[];
  /** First event's wall time: [as printed, ISO] (null: the line has none). */
  firstTime: [string, string | null] | null;
  firstMonotonicUs?: number | null;
  firstMessage?: string;
}

const py = (n: number, pid: number, name: string): [number, string][] =>
  Array.from({ length: n }, () => [pid, name]);
const none = (n: number): [null, null][] => Array.from({ length: n }, () => [null, null]);

const FIXTURES: Record<string, Expected> = {
  "kmsg_raw_gpud_kmsg.1.log": { codes: [], busIds: [], firstTime: null },
  "sxid_issue_ogkm-1118_a100_talos.txt": {
    codes: [],
    busIds: [],
    sxid: [24007, 24007],
    firstTime: ["2026-04-22T21:25:20.466440686Z", "2026-04-22T21:25:20.466440686Z"],
  },
  "xid_gist_zackmattor_xid79_journalctl.txt": {
    codes: [[79, 1]],
    busIds: ["0000:10:00"],
    pidNames: [[0, null]],
    firstTime: ["Sep 09 15:53:19", null],
    firstMessage: "GPU has fallen off the bus.",
  },
  "xid_gpud_dmesg-time-format-iso.log": {
    codes: [
      [48, 1],
      [63, 1],
      [94, 9],
    ],
    busIds: ["0000:19:00"],
    pidNames: [...none(3), ...py(8, 1248209, "python3.10")],
    firstTime: ["2024-11-15T12:02:03,470068+00:00", "2024-11-15T12:02:03.470068+00:00"],
    firstMessage:
      "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at physAddr 0x12bac1c3e0 partition 2, subpartition 1.",
  },
  "xid_gpud_dmesg-with-xid-119.log": {
    codes: [[119, 5]],
    busIds: ["0000:9b:00"],
    pidNames: [...py(3, 2024380, "nvidia-smi"), [1263500, "cache_mgr_main"], [1240590, "gpud"]],
    firstTime: ["Sun Feb 23 16:24:18 2025", "2025-02-23T16:24:18"],
  },
  "xid_gpud_dmesg.decode.iso.log.0": {
    codes: [
      [13, 629],
      [43, 7],
    ],
    unordered: true,
    busIds: ["0000:38:00"],
    firstTime: ["2025-01-21T02:21:33,498559+00:00", "2025-01-21T02:21:33.498559+00:00"],
    firstMessage: "Graphics SM Warp Exception on (GPC 8, TPC 5, SM 0): Out Of Range Address",
  },
  "xid_issue_bumblebee-329_xid16_8.txt": {
    codes: [
      [16, 8],
      [8, 1],
    ],
    busIds: ["0000:01:00"],
    firstTime: null,
    firstMonotonicUs: null,
    firstMessage: "Head 00000000 Count 00000000",
  },
  "xid_issue_gpu-operator-1146_xid48_64.txt": {
    codes: [
      [48, 1],
      [64, 1],
    ],
    busIds: ["0000:07:00"],
    firstTime: ["Dec  2 11:38:47", null],
    firstMonotonicUs: 219_470_994,
  },
  "xid_issue_ogkm-1150_xid45.txt": {
    codes: [[45, 7]],
    busIds: [
      "0000:dc:00",
      "0000:ed:00",
      "0000:ba:00",
      "0000:97:00",
      "0000:dc:00",
      "0000:ba:00",
      "0000:ed:00",
    ],
    pidNames: [
      [1818990, "python3"],
      [1818992, "python3"],
      [1818989, "python3"],
      [1818987, "python3"],
      [1818990, "python3"],
      [1818989, "python3"],
      [1818992, "python3"],
    ],
    firstTime: null,
    firstMessage: "Ch 00000001 caused by previous Xid 149",
  },
  "xid_issue_ogkm-363_xid31.txt": {
    codes: [[31, 2]],
    busIds: ["0000:08:00"],
    pidNames: [
      [169800, "chrome"],
      [174421, "chrome"],
    ],
    firstTime: null,
  },
  "xid_issue_vllm-40652_xid119_talos.txt": {
    codes: [[119, 1]],
    busIds: ["0000:0b:00"],
    pidNames: [[11431, "gpu-feature-dis"]],
    firstTime: ["2026-04-22T21:29:21.342163186Z", "2026-04-22T21:29:21.342163186Z"],
  },
  "xid_pastebin_xkjT7KVW_xid9_old.txt": {
    codes: [[9, 12]],
    busIds: ["0000:00:05"],
    firstTime: ["Nov 18 17:26:39", null],
    firstMessage: "Channel 00000000 Instance 000091d8 status 0000001d",
  },
  "xid_pr_gpud-1160-1174_nvlink5_xid144-149.txt": {
    codes: [
      [144, 1],
      [149, 4],
      [145, 1],
    ],
    busIds: ["0000:01:00", "0000:00:00", "0000:00:00", "0019:01:00", "0000:00:00", "0018:01:00"],
    firstTime: null,
    firstMonotonicUs: null,
    firstMessage:
      "SAW_MVB Nonfatal XC0 i0 Link 0 (0x00000001 0x00000008 0x00000000 0x00000000 0x00000000 0x00000000)",
  },
};

const expand = (runs: [number, number][]) => runs.flatMap(([code, n]) => Array<number>(n).fill(code));
const xids = (events: KernelLogEvent[]) => events.filter((e): e is XidLineEvent => e.kind === "xid");

describe("kernel-log parser over every fixture", () => {
  it("has an expectation for every fixture file", () => {
    const files = readdirSync(DIR).filter((f) => f !== "README.md");
    expect(files.sort()).toEqual(Object.keys(FIXTURES).sort());
  });

  for (const [file, want] of Object.entries(FIXTURES)) {
    it(file, () => {
      const text = read(file);
      const lines = text.split("\n");
      // Exactly one event per `NVRM: Xid` line, none for any other line.
      for (const [i, line] of lines.entries()) {
        const event = parseKernelLogLine(line);
        const isXid = line.includes("NVRM: Xid (");
        const isSxid = line.includes(": SXid (");
        expect(event?.kind ?? null, `${file}:${i + 1}`).toBe(isXid ? "xid" : isSxid ? "sxid" : null);
      }
      const events = parseKernelLog(text);
      const gpu = xids(events);
      const codes = gpu.map((e) => e.xid);
      if (want.unordered) codes.sort((a, b) => a - b);
      expect(codes).toEqual(expand(want.codes));
      const buses = want.busIds.length === 1 ? gpu.map(() => want.busIds[0]) : want.busIds;
      expect(gpu.map((e) => e.pciBusId)).toEqual(buses);
      if (!want.unordered)
        expect(gpu.map((e) => [e.pid, e.processName])).toEqual(want.pidNames ?? none(gpu.length));
      const sx = events.filter((e) => e.kind === "sxid");
      expect(sx.map((e) => e.sxid)).toEqual(want.sxid ?? []);
      const first = events[0];
      if (first) {
        expect(first.time === null ? null : [first.time.text, first.time.iso]).toEqual(want.firstTime);
        if (want.firstMonotonicUs !== undefined) expect(first.monotonicUs).toBe(want.firstMonotonicUs);
        if (want.firstMessage !== undefined && first.kind === "xid")
          expect(first.message).toBe(want.firstMessage);
        // Times are read on every event of a file whose first event has one.
        for (const e of events) expect(e.time === null).toBe(want.firstTime === null);
      }
    });
  }
});

describe("kernel-log parser details", () => {
  it("reads the sequence, priority and usec of raw /dev/kmsg records", () => {
    const records = read("kmsg_raw_gpud_kmsg.1.log").trimEnd().split("\n");
    expect(records.every((r) => parseKernelLogLine(r) === null)).toBe(true);
    // A record in the same format carrying an Xid (text from xid_gist_zackmattor_xid79_journalctl.txt).
    const event = parseKernelLogLine(
      "3,4011,3757433091,-;NVRM: Xid (PCI:0000:10:00): 79, pid=0, GPU has fallen off the bus.",
    );
    expect(event).toMatchObject({
      kind: "xid",
      xid: 79,
      pciBusId: "0000:10:00",
      pid: 0,
      processName: null,
      message: "GPU has fallen off the bus.",
      kmsg: { seq: 4011, priority: 3 },
      monotonicUs: 3757433091,
      time: null,
    });
    // A continuation record (dictionary line) and a record with extra header fields.
    expect(parseKernelLogLine(" DEVICE=+pci:0000:10:00.0")).toBeNull();
    expect(
      parseKernelLogLine("4,12,5000,-,caller=T1;NVRM: Xid (PCI:0000:01:00): 13, pid=9, name=a b, Ch 1"),
    ).toMatchObject({
      kmsg: { seq: 12, priority: 4 },
      processName: "a b",
      xid: 13,
    });
  });

  it("attributes the interleaved Xid 43s to their process and the Xid 13s to none", () => {
    const events = xids(parseKernelLog(read("xid_gpud_dmesg.decode.iso.log.0")));
    const who = (code: number) =>
      new Set(events.filter((e) => e.xid === code).map((e) => `${e.pid}/${e.processName}`));
    const pids = [2815167, 2823801, 2839444, 2877200, 2886782, 2897677, 2924364];
    expect(who(43)).toEqual(new Set(pids.map((pid) => `${pid}/pt_main_thread`)));
    expect(who(13)).toEqual(new Set(["null/null"]));
    expect(events.at(-1)?.message).toBe("Ch 00000008");
  });

  it("ignores a program quoting the driver in a syslog file", () => {
    // The fixture's journal line, as a user-space program (ident with [pid]) would have logged it.
    const line = read("xid_gist_zackmattor_xid79_journalctl.txt").split("\n")[7] ?? "";
    expect(parseKernelLogLine(line)?.kind).toBe("xid");
    expect(parseKernelLogLine(line.replace("kernel:", "gpud[812]:"))).toBeNull();
    const sxid = (read("sxid_issue_ogkm-1118_a100_talos.txt").split("\n")[1] ?? "").replace(/^.*?Z\]: /, "");
    expect(parseKernelLogLine(`Dec  2 11:38:47 host kernel: ${sxid}`)?.kind).toBe("sxid");
    expect(parseKernelLogLine(`Dec  2 11:38:47 host relay[9]: ${sxid}`)).toBeNull();
  });

  it("completes yearless syslog stamps when given a year", () => {
    const line = read("xid_gist_zackmattor_xid79_journalctl.txt").split("\n")[7] ?? "";
    expect(parseKernelLogLine(line, { year: 2025 })?.time).toEqual({
      text: "Sep 09 15:53:19",
      iso: "2025-09-09T15:53:19",
    });
  });

  it("reads the journal's precise stamps (journalctl -o short-precise), with or without a year", () => {
    // The fixture's journal line as `journalctl -k -o short-precise` prints it: microseconds.
    const line = (read("xid_gist_zackmattor_xid79_journalctl.txt").split("\n")[7] ?? "").replace(
      "15:53:19 ",
      "15:53:19.123456 ",
    );
    expect(parseKernelLogLine(line)?.time).toEqual({ text: "Sep 09 15:53:19.123456", iso: null });
    expect(parseKernelLogLine(line, { year: 2025 })?.time).toEqual({
      text: "Sep 09 15:53:19.123456",
      iso: "2025-09-09T15:53:19.123456",
    });
  });

  it("reads the channel when the detail names one", () => {
    const [first] = xids(parseKernelLog(read("xid_issue_ogkm-363_xid31.txt")));
    expect(first?.channel).toBe("00000023");
    expect(
      parseKernelLogLine("NVRM: Xid (PCI:0000:01:00): 43, pid=5, name=x, channel 0x0000001f"),
    ).toMatchObject({
      channel: "0x0000001f",
    });
  });

  it("reads an NVLink5 Xid's unit, link, interrupt info and error status, and no other Xid's", () => {
    const events = xids(parseKernelLog(read("xid_pr_gpud-1160-1174_nvlink5_xid144-149.txt")));
    expect(events.map((e) => e.nvlink5)).toEqual([
      { unit: "SAW_MVB", driverSeverity: "Nonfatal", link: 0, intrinfo: 0x1, errorStatus: 0x8, subCode: 0 },
      {
        unit: "NETIR_LINK_EVT",
        driverSeverity: "Fatal",
        link: 0,
        intrinfo: 0x026001c6,
        errorStatus: 0,
        subCode: 0x26,
      },
      {
        unit: "NETIR_LINK_EVT",
        driverSeverity: "Fatal",
        link: 0,
        intrinfo: 0x025001c6,
        errorStatus: 0,
        subCode: 0x25,
      },
      { unit: "NETIR", driverSeverity: "Fatal", link: -1, intrinfo: 0x000fe406, errorStatus: 0, subCode: 0 },
      {
        unit: "NETIR_LINK_EVT",
        driverSeverity: "Fatal",
        link: 0,
        intrinfo: 0x025001c6,
        errorStatus: 0,
        subCode: 0x25,
      },
      {
        unit: "RLW_RXPIPE",
        driverSeverity: "Nonfatal",
        link: 13,
        intrinfo: 0x0409a0c2,
        errorStatus: 0x8,
        subCode: 0,
      },
    ]);
    // A continuation Xid 45 naming the 149 before it is not an NVLink5 line.
    const [cleanup] = xids(parseKernelLog(read("xid_issue_ogkm-1150_xid45.txt")));
    expect(cleanup?.nvlink5).toBeNull();
    expect(
      parseKernelLogLine("NVRM: Xid (PCI:0000:01:00): 149, pid=7, name=x, something else"),
    ).toMatchObject({
      xid: 149,
      nvlink5: null,
    });
  });

  it("reads CRLF dumps and tolerates trailing whitespace", () => {
    const text = read("xid_issue_ogkm-363_xid31.txt").replace(/\n/g, "\r\n");
    expect(xids(parseKernelLog(text)).map((e) => e.message.endsWith("ACCESS_TYPE_VIRT_READ"))).toEqual([
      true,
      true,
    ]);
  });

  it("never throws and returns only well-formed events on arbitrary text", () => {
    const fragments = fc.constantFrom(
      "NVRM: Xid (",
      "PCI:",
      "0000:01:00",
      "): ",
      "79",
      ", ",
      "pid=",
      "'<unknown>'",
      "name=",
      "3,4011,3757433091,-;",
      "[  219.470994] ",
      "2024-11-15T12:02:03,470068+00:00 ",
      "nvidia-nvswitch1: SXid (",
      "\u0000",
      "\u{1F600}",
    );
    const text = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.array(fragments, { maxLength: 20 }).map((a) => a.join("")),
    );
    fc.assert(
      fc.property(text, (line) => {
        const event = parseKernelLogLine(line);
        if (event === null) return;
        if (event.kind === "xid") expect(Number.isInteger(event.xid)).toBe(true);
        expect(event.pciBusId).toMatch(/^[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}/);
      }),
      { numRuns: 3000 },
    );
  });
});
