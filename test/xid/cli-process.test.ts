// `gputel xid parse` as users run it: the built bin/gputel over every kernel-log fixture.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { assertBuilt, GPUTEL, ROOT } from "../helpers/cli.js";

const DIR = join(ROOT, "test/fixtures/kernel-log");
const FILES = readdirSync(DIR)
  .filter((f) => f !== "README.md")
  .sort()
  .map((f) => join(DIR, f));

async function gputel(args: string[], input?: string) {
  assertBuilt();
  const child = promisify(execFile)(process.execPath, [GPUTEL, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Row {
  file: string;
  line: number;
  xid: number;
  pci_bus_id: string;
  pid: number | null;
  process_name: string | null;
  message: string;
  mnemonic: string | null;
  action: string;
  time: string | null;
}

describe("gputel xid parse", () => {
  it("prints one JSON object per NVRM Xid line of every fixture, matching the line", async () => {
    const result = await gputel(["xid", "parse", "--json", ...FILES]);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    let xidLines = 0;
    for (const file of FILES) {
      const lines = readFileSync(file, "utf8").split("\n");
      const mine = rows.filter((r) => r.file === file);
      const expectedLines = lines.flatMap((l, i) => (l.includes("NVRM: Xid (") ? [i + 1] : []));
      xidLines += expectedLines.length;
      expect(
        mine.map((r) => r.line),
        file,
      ).toEqual(expectedLines);
      for (const r of mine) {
        const text = lines[r.line - 1] ?? "";
        expect(text).toMatch(new RegExp(`Xid \\((PCI:)?${r.pci_bus_id}\\): ${r.xid}, `));
        expect(text.includes(`pid=${r.pid}`)).toBe(r.pid !== null);
        expect(text.includes(`name=${r.process_name},`)).toBe(r.process_name !== null);
        expect(text.trimEnd().endsWith(r.message)).toBe(true);
        expect(r.mnemonic).not.toBeNull();
        // A wall-clock or ISO stamp in the line ⇔ a time.
        expect(r.time !== null, text).toBe(
          /^\[?[A-Z][a-z]{2} |\d{4}-\d{2}-\d{2}T/.test(text) || /: \[\d{4}-/.test(text),
        );
      }
    }
    expect(rows).toHaveLength(xidLines);
    expect(xidLines).toBe(692);
    const fell = rows.find((r) => r.xid === 79);
    expect(fell).toMatchObject({
      pci_bus_id: "0000:10:00",
      pid: 0,
      process_name: null,
      message: "GPU has fallen off the bus.",
      mnemonic: "ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS",
      action: "reboot",
      time: "Sep 09 15:53:19",
    });
    expect(rows.find((r) => r.xid === 31)).toMatchObject({
      pid: 169800,
      process_name: "chrome",
      action: "restart-app",
    });
  });

  it("decodes NVLink5 Xids with NVIDIA's XID 144-150 sheet: the row's resolution is the action", async () => {
    const file = join(DIR, "xid_pr_gpud-1160-1174_nvlink5_xid144-149.txt");
    const result = await gputel(["xid", "parse", "--json", file]);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Row & Record<string, unknown>);
    expect(rows.map((r) => [r.xid, r.pci_bus_id, r.action, r.action_basis])).toEqual([
      [144, "0000:01:00", "none", "nvlink5-decode"],
      [149, "0000:00:00", "none", "nvlink5-decode"],
      [149, "0000:00:00", "reset-gpu", "nvlink5-decode"],
      [149, "0019:01:00", "reset-gpu", "nvlink5-decode"],
      [149, "0000:00:00", "reset-gpu", "nvlink5-decode"],
      [145, "0018:01:00", "none", "nvlink5-decode"],
    ]);
    expect(rows[2]).toMatchObject({
      mnemonic: "NVLINK_NETIR_ERROR",
      nvlink5: {
        unit: "NETIR_LINK_EVT",
        driver_severity: "Fatal",
        link: 0,
        intrinfo: "0x025001c6",
        error_status: "0x00000000",
        sub_code: 37,
        decoded: {
          unit: "NETIR_LINK_EVT/NETIR_LINK_DOWN",
          resolution: "RESET_GPU",
          investigatory: "INVESTIGATE_PEER_DEVICE",
          severity: "link-fatal",
          severity_text: "Link Fatal",
          hw_sw: "HW/SW",
        },
      },
    });
    expect(rows[2]?.action_reason).toMatch(/^NVIDIA's XID 144-150 decode: NETIR_LINK_EVT\/NETIR_LINK_DOWN/);
    expect(rows[3]).toMatchObject({
      nvlink5: { unit: "NETIR", link: -1, decoded: { unit: "NETIR/NETIR_INT" } },
    });
    // Any other Xid keeps its catalogue row, and says so.
    const other = await gputel(["xid", "parse", "--json", join(DIR, "xid_issue_ogkm-363_xid31.txt")]);
    expect(JSON.parse(other.stdout.split("\n")[0] ?? "")).toMatchObject({
      action: "restart-app",
      action_basis: "catalogue",
      nvlink5: null,
    });
  });

  it("prints a table for people, with the SXid lines counted and not listed", async () => {
    const result = await gputel([
      "xid",
      "parse",
      join(DIR, "xid_issue_ogkm-363_xid31.txt"),
      join(DIR, "sxid_issue_ogkm-1118_a100_talos.txt"),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/PCI BUS ID/);
    expect(result.stdout).toMatch(
      /0000:08:00 +31 +ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT +169800 +chrome +application/,
    );
    expect(result.stdout).toMatch(/2 Xid event\(s\) in 2 file\(s\); 2 NVSwitch SXid line\(s\) not listed/);
  });

  it("reads stdin for - and completes syslog stamps with --year", async () => {
    const text = readFileSync(join(DIR, "xid_issue_gpu-operator-1146_xid48_64.txt"), "utf8");
    const result = await gputel(["xid", "parse", "--json", "--year", "2024", "-"], text);
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    expect(rows.map((r) => [r.xid, r.time])).toEqual([
      [48, "2024-12-02T11:38:47"],
      [64, "2024-12-02T11:38:47"],
    ]);
  });

  it("reads `journalctl -k -o json` entries (the agent's input): the MESSAGE, stamped with the journal's clock", async () => {
    // The fixture's Xid 31 as the journal stores it; before, the row's message kept the entry's
    // closing `"}` and its time was null, the realtime stamp unread.
    const text = readFileSync(join(DIR, "xid_issue_ogkm-363_xid31.txt"), "utf8").split("\n")[1] ?? "";
    const entry = {
      __CURSOR: "s=6d6f636b;i=3e8;b=cb6d7372c7ea43d9a0f9fed8e7c53ff5;m=c845880;t=6620fbbfdb9d8;x=0",
      __REALTIME_TIMESTAMP: "1796669578263000",
      __MONOTONIC_TIMESTAMP: "210000000",
      __SEQNUM: "1000",
      _BOOT_ID: "cb6d7372c7ea43d9a0f9fed8e7c53ff5",
      _TRANSPORT: "kernel",
      PRIORITY: "4",
      MESSAGE: text,
    };
    const result = await gputel(["xid", "parse", "--json", "-"], `${JSON.stringify(entry)}\n`);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Row & { monotonic_us: number | null });
    expect(rows).toEqual([
      expect.objectContaining({
        line: 1,
        xid: 31,
        pci_bus_id: "0000:08:00",
        pid: 169800,
        process_name: "chrome",
        message: text.slice(text.indexOf("Ch 00000023")),
        time: new Date(1796669578263).toISOString(),
        monotonic_us: 210000000,
      }),
    ]);
  });

  it("answers usage errors with 64, a missing file with 66, and --help with 0", async () => {
    const help = await gputel(["xid", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: gputel xid parse FILE/);
    for (const args of [["xid"], ["xid", "parse"], ["xid", "frob", "x"], ["xid", "parse", "--bogus", "x"]]) {
      const bad = await gputel(args);
      expect(bad.code, args.join(" ")).toBe(64);
      expect(bad.stderr).toMatch(/GPUTEL_E_USAGE/);
    }
    expect((await gputel(["xid", "parse", "--year", "24", FILES[0] ?? ""])).code).toBe(64);
    const missing = await gputel([
      "xid",
      "parse",
      "--json",
      join(DIR, "no-such-file"),
      join(DIR, "xid_issue_ogkm-363_xid31.txt"),
    ]);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toMatch(/cannot read .*no-such-file/);
    // The readable file is still reported.
    expect(missing.stdout.trimEnd().split("\n")).toHaveLength(2);
  });
});
