// NVIDIA's "XID 144-150 Decode" sheet: the checked-in table (shared/xid/nvlink5-decode.ts) is what
// scripts/gen-xid-catalogue.ts makes of test/fixtures/xid/xid_144-150_nvlink5_decode_nvidia_via_gpud.tsv,
// and the decoder (shared/xid/nvlink5.ts, shared/xid/judge.ts) finds every row of it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  NVLINK5_DECODE_TSV,
  parseNvlink5DecodeTsv,
  renderNvlink5Decode,
} from "../../scripts/xid-nvlink5-decode.js";
import { judgeXid } from "../../shared/xid/judge.js";
import { decodeNvlink5, fitsPattern, readNvlink5Fields } from "../../shared/xid/nvlink5.js";
import { XID_NVLINK5_DECODE } from "../../shared/xid/nvlink5-decode.js";

const ROOT = new URL("../../", import.meta.url);
const tsv = readFileSync(new URL(NVLINK5_DECODE_TSV, ROOT), "utf8");
const checkedIn = readFileSync(new URL("shared/xid/nvlink5-decode.ts", ROOT), "utf8");

/** The word a pattern describes, its free bits all `free`. */
const wordOf = (pattern: string, free: "0" | "1") => Number.parseInt(pattern.replaceAll("-", free), 2) >>> 0;
const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

describe("NVLink5 decode table", () => {
  it("is not stale: regenerating from the TSV gives the checked-in file byte for byte", () => {
    expect(renderNvlink5Decode(tsv)).toBe(checkedIn);
  });

  it("names its source in the header", () => {
    expect(checkedIn).toContain("docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html");
    expect(checkedIn).toContain('sheet "XID 144-150 Decode"');
    expect(checkedIn).toContain("leptonai/gpud@4a8de33a3f02e207f39e9023d67125592d599731");
    expect(checkedIn).toContain(NVLINK5_DECODE_TSV);
  });

  it("holds the sheet's 94 rows, each as NVIDIA writes it", () => {
    const lines = tsv.trimEnd().split("\n").slice(1);
    expect(XID_NVLINK5_DECODE).toHaveLength(94);
    expect(lines).toHaveLength(94);
    for (const [i, line] of lines.entries()) {
      const [xid, unit, v1, v2, status, resolution, investigatory, severity, action2, hwSw, effect] = line
        .split("\t")
        .map((c) => c.trim());
      expect(XID_NVLINK5_DECODE[i], `row ${i + 2}`).toMatchObject({
        xid: Number(xid),
        unit,
        intrinfoV1: v1,
        intrinfoV2: v2,
        errorStatus: Number(status),
        resolution,
        investigatory,
        severityText: severity,
        action2,
        hwSw,
        effect,
      });
    }
  });

  it("normalises resolution and severity", () => {
    const actions = new Set(XID_NVLINK5_DECODE.map((r) => `${r.resolution}→${r.action}`));
    expect(actions).toEqual(new Set(["IGNORE→none", "RESET_GPU→reset-gpu", "XID_154_EVAL→recovery-action"]));
    const severities = new Set(XID_NVLINK5_DECODE.map((r) => `${r.severityText}→${r.severity}`));
    expect(severities).toEqual(
      new Set([
        "Fatal→fatal",
        "Fatal**→fatal",
        "Link Fatal→link-fatal",
        "Link Fatal?→link-fatal",
        "Non-fatal→non-fatal",
        "Non-fatal*→non-fatal",
      ]),
    );
  });

  it("refuses a TSV with other columns, an unmapped resolution or severity, or a bad pattern", () => {
    const [header = "", first = ""] = tsv.split("\n");
    expect(() => parseNvlink5DecodeTsv("xid\tunit\n144\tx\n")).toThrow(/unexpected columns/);
    const cells = first.split("\t");
    const withCell = (i: number, value: string) =>
      `${header}\n${cells.map((c, j) => (j === i ? value : c)).join("\t")}\n`;
    expect(() => parseNvlink5DecodeTsv(withCell(5, "PRAY"))).toThrow(/row 2: unknown resolution 'PRAY'/);
    expect(() => parseNvlink5DecodeTsv(withCell(7, "Mostly fatal"))).toThrow(/unknown severity/);
    expect(() => parseNvlink5DecodeTsv(withCell(2, "01"))).toThrow(/bad intrinfo pattern/);
  });
});

describe("NVLink5 decoder", () => {
  it("matches a word against a pattern bit by bit, bit 31 first", () => {
    expect(fitsPattern(0x025001c6, "------000000----------0111000110")).toBe(false);
    expect(fitsPattern(0x025001c6, "------100101----------0111000110")).toBe(true);
    expect(fitsPattern(0xffffffff, "-".repeat(32))).toBe(true);
    expect(fitsPattern(0x80000000, `1${"-".repeat(31)}`)).toBe(true);
  });

  it("finds every row of the sheet from either intrinfo layout, under each name of its unit", () => {
    for (const [i, row] of XID_NVLINK5_DECODE.entries()) {
      for (const pattern of [row.intrinfoV1, row.intrinfoV2])
        for (const free of ["0", "1"] as const)
          for (const unit of [row.unit, ...row.unit.split("/")]) {
            const intrinfo = wordOf(pattern, free);
            const fields = {
              unit,
              driverSeverity: "Fatal" as const,
              link: 0,
              intrinfo,
              errorStatus: row.errorStatus,
              subCode: (intrinfo >>> 20) & 0x3f,
            };
            const decoded = decodeNvlink5(row.xid, fields);
            const at = `row ${i + 2} ${unit} ${hex(intrinfo)}`;
            expect(decoded.rows, at).toContain(row);
            // Rows that fit the same words (TLW_RX/TX pipes, under the shared name, share the v1
            // layout) say the same: the choice among them changes nothing.
            const verdict = (r: typeof row) => [
              r.resolution,
              r.investigatory,
              r.severityText,
              r.hwSw,
              r.effect,
            ];
            for (const rival of decoded.rows) expect(verdict(rival), at).toEqual(verdict(row));
            // A name of one unit alone selects that row alone.
            if (!unit.includes("/") && row.unit.split("/").at(-1) === unit)
              expect(decoded.rows, at).toEqual([row]);
          }
    }
  });

  it("decodes the real lines quoted in leptonai/gpud PRs 1160 and 1174", () => {
    // Detail as the kernel-log parser leaves it (after `NVRM: Xid (PCI:…): <code>, `); the lines
    // are in test/fixtures/kernel-log/xid_pr_gpud-1160-1174_nvlink5_quoted.txt.
    const cases: [number, string, string, string, string][] = [
      [
        144,
        "SAW_MVB Nonfatal XC0 i0 Link 0 (0x00000001 0x00000008 0x00000000 0x00000000 0x00000000 0x00000000)",
        "SAW_MVB",
        "IGNORE",
        "none",
      ],
      [
        149,
        "NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x026001c6 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)",
        "NETIR_LINK_EVT/NETIR_LINK_DOWN",
        "IGNORE",
        "none",
      ],
      [
        149,
        "NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x025001c6 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)",
        "NETIR_LINK_EVT/NETIR_LINK_DOWN",
        "RESET_GPU",
        "reset-gpu",
      ],
      [
        149,
        "NETIR Fatal XC0 i0 Link -1 (0x000fe406 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)",
        "NETIR/NETIR_INT",
        "RESET_GPU",
        "reset-gpu",
      ],
      [
        145,
        "RLW_RXPIPE Nonfatal XC0 i0 Link 13 (0x0409a0c2 0x00000008 0x00000001 0x00000000 0x00100000 0x00000004)",
        "RLW_RXPIPE",
        "IGNORE",
        "none",
      ],
    ];
    for (const [xid, detail, unit, resolution, action] of cases) {
      const judged = judgeXid(xid, detail);
      expect(judged.basis, detail).toBe("nvlink5-decode");
      expect(judged.action, detail).toBe(action);
      expect(judged.nvlink5?.row).toMatchObject({ xid, unit, resolution });
    }
    expect(judgeXid(149, cases[2]?.[1] ?? "").nvlink5).toMatchObject({
      fields: { unit: "NETIR_LINK_EVT", driverSeverity: "Fatal", link: 0, subCode: 0x25, errorStatus: 0 },
      row: { investigatory: "INVESTIGATE_PEER_DEVICE", severity: "link-fatal", hwSw: "HW/SW" },
    });
    expect(readNvlink5Fields(cases[3]?.[1] ?? "")).toMatchObject({ unit: "NETIR", link: -1, subCode: 0 });
    expect(judgeXid(149, cases[2]?.[1] ?? "").reason).toBe(
      "NVIDIA's XID 144-150 decode: NETIR_LINK_EVT/NETIR_LINK_DOWN, intrinfo 0x025001c6 (sub-code 37), error status 0x00000000 → RESET_GPU (Link Fatal, HW/SW)",
    );
  });

  it("decodes the four-word lines gpud's authors wrote as test cases (nvlink_logs_test.go)", () => {
    // leptonai/gpud@4a8de33a components/accelerator/nvidia/xid/nvlink_logs_test.go: written by
    // gpud's authors, not captured from a machine; the same shape with four hex words.
    expect(
      judgeXid(145, "RLW_SRC_TRACK Fatal XC0 i0 Link 00 (0x00000007 0x00000001 0x00000000 0x00000000)"),
    ).toMatchObject({ action: "reset-gpu", basis: "nvlink5-decode" });
    expect(
      judgeXid(146, "TLW_RX/TLW_RX_PIPE0 Fatal XC0 i0 Link 00 (0x0000000a 0x00000004 0x00000000 0x00000000)"),
    ).toMatchObject({
      action: "reset-gpu",
      basis: "nvlink5-decode",
      nvlink5: { row: { unit: "TLW_RX/TLW_RX_PIPE0" } },
    });
    expect(
      judgeXid(150, "MSE_WATCHDOG Fatal XC0 i0 Link 00 (0x00000000 0x00000000 0x00000000 0x00000000)"),
    ).toMatchObject({ action: "reset-gpu", nvlink5: { row: { severity: "fatal", hwSw: "FW" } } });
  });

  it("falls back to the catalogue row, saying why, when no row fits or the line has another shape", () => {
    const unknownStatus = judgeXid(
      144,
      "SAW_MVB Nonfatal XC0 i0 Link 0 (0x00000001 0x00000040 0x00000000 0x00000000 0x00000000 0x00000000)",
    );
    expect(unknownStatus).toMatchObject({ action: "investigate", basis: "catalogue" });
    expect(unknownStatus.nvlink5?.row).toBeNull();
    expect(unknownStatus.reason).toBe(
      "no row of NVIDIA's XID 144-150 decode fits Xid 144 SAW_MVB with intrinfo 0x00000001 (sub-code 0), error status 0x00000040; NVIDIA's catalogue row for Xid 144 (WORKFLOW_NVLINK5_ERR)",
    );
    const otherUnit = judgeXid(144, "RLW_CTRL Fatal XC0 i0 Link 0 (0x00000001 0x00000002)");
    expect(otherUnit).toMatchObject({ action: "investigate", basis: "catalogue" });
    expect(otherUnit.reason).toMatch(
      /select SAW_MVB in NVIDIA's XID 144-150 decode, but the line names RLW_CTRL/,
    );
    const shapeless = judgeXid(149, "something else entirely");
    expect(shapeless).toMatchObject({ action: "investigate", basis: "catalogue", nvlink5: null });
    expect(shapeless.reason).toMatch(/^the line does not print the unit, intrinfo and error status/);
    expect(judgeXid(79, "GPU has fallen off the bus.")).toMatchObject({
      action: "reboot",
      basis: "catalogue",
    });
    expect(judgeXid(999, "x")).toMatchObject({ action: "unknown", basis: "none" });
  });
});
