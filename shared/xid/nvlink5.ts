// NVLink5 Xids (144-150): the fields the driver prints after the code, and the row of NVIDIA's
// "XID 144-150 Decode" sheet (shared/xid/nvlink5-decode.ts) they select. Pure.
//
// The driver's detail reads `<UNIT> <Fatal|Nonfatal> XC<n> i<n> Link <n|-1> (<intrinfo> <error
// status> <more words>)`, e.g. `NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x025001c6 0x00000000 …)`
// (lines quoted in leptonai/gpud PRs 1160 and 1174; test/fixtures/kernel-log/README.md). The first
// word is the interrupt info: its low bits name the unit and bits 20-25 the sub-code; the second is
// the error status. Both select the sheet's row, and the unit printed must be one the row names.
import { XID_NVLINK5_DECODE } from "./nvlink5-decode.js";
import type { Nvlink5DecodeRow } from "./types.js";

export const NVLINK5_XIDS: readonly number[] = [144, 145, 146, 147, 148, 149, 150];

export interface Nvlink5Fields {
  /** As printed (`NETIR_LINK_EVT`, `RLW_RXPIPE`). */
  unit: string;
  /** The driver's own word: `Fatal` or `Nonfatal`. */
  driverSeverity: "Fatal" | "Nonfatal";
  /** The NVLink the error is on; -1 when the driver names none. */
  link: number;
  /** The first hex word. */
  intrinfo: number;
  /** The second hex word. */
  errorStatus: number;
  /** Bits 20-25 of the interrupt info. */
  subCode: number;
}

const HEX = "0x[0-9a-fA-F]{1,8}";
const DETAIL = new RegExp(
  `^([A-Z][A-Z0-9_]*(?:/[A-Z][A-Z0-9_]*)*)\\s+(Fatal|Nonfatal)\\s+XC\\d+\\s+i\\d+\\s+Link\\s+(-?\\d{1,3})\\s+\\((${HEX})\\s+(${HEX})(?:\\s+${HEX})*\\s*\\)`,
);

/** The fields of an NVLink5 Xid's detail (the line's text after the code); null for another shape. */
export function readNvlink5Fields(detail: string): Nvlink5Fields | null {
  const m = DETAIL.exec(detail.trim());
  if (!m) return null;
  const intrinfo = Number(m[4]);
  return {
    unit: m[1] ?? "",
    driverSeverity: m[2] === "Fatal" ? "Fatal" : "Nonfatal",
    link: Number(m[3]),
    intrinfo,
    errorStatus: Number(m[5]),
    subCode: (intrinfo >>> 20) & 0x3f,
  };
}

/** Whether a 32-bit word fits a pattern of 32 characters, bit 31 first (`-`: any). */
export function fitsPattern(word: number, pattern: string): boolean {
  for (let bit = 0; bit < 32; bit++) {
    const want = pattern[31 - bit];
    if (want === "-") continue;
    if (((word >>> bit) & 1) !== (want === "1" ? 1 : 0)) return false;
  }
  return true;
}

export interface Nvlink5Decode {
  fields: Nvlink5Fields;
  /** Every row of the sheet the fields fit (TLW_RX's and TLW_TX's pipes share their v1 layout). */
  rows: readonly Nvlink5DecodeRow[];
  /** The row that decides; null when none fits (the generic catalogue row then applies). */
  row: Nvlink5DecodeRow | null;
  /** Why this row, or why none. */
  reason: string;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/** When several rows fit, the costliest resolution decides: an operator would rather reset than miss one. */
const COST: Record<string, number> = { IGNORE: 0, XID_154_EVAL: 1, RESET_GPU: 2 };

const names = (row: Nvlink5DecodeRow) => [row.unit, ...row.unit.split("/")];

/** The decode sheet's row(s) for an NVLink5 Xid's fields. */
export function decodeNvlink5(xid: number, fields: Nvlink5Fields): Nvlink5Decode {
  const words = `intrinfo ${hex(fields.intrinfo)} (sub-code ${fields.subCode}), error status ${hex(fields.errorStatus)}`;
  const byBits = XID_NVLINK5_DECODE.filter(
    (r) =>
      r.xid === xid &&
      r.errorStatus === fields.errorStatus &&
      (fitsPattern(fields.intrinfo, r.intrinfoV1) || fitsPattern(fields.intrinfo, r.intrinfoV2)),
  );
  const rows = byBits.filter((r) => names(r).includes(fields.unit));
  const row = rows.reduce<Nvlink5DecodeRow | null>(
    (best, r) => (best === null || (COST[r.resolution] ?? 0) > (COST[best.resolution] ?? 0) ? r : best),
    null,
  );
  if (row) {
    const also = rows.filter((r) => r !== row).map((r) => r.unit);
    const alsoText = also.length > 0 ? `; also fits ${also.join(", ")}` : "";
    return {
      fields,
      rows,
      row,
      reason: `NVIDIA's XID 144-150 decode: ${row.unit}, ${words} → ${row.resolution} (${row.severityText}, ${row.hwSw})${alsoText}`,
    };
  }
  const other = byBits[0];
  const why = other
    ? `${words} select ${other.unit} in NVIDIA's XID 144-150 decode, but the line names ${fields.unit}`
    : `no row of NVIDIA's XID 144-150 decode fits Xid ${xid} ${fields.unit} with ${words}`;
  return { fields, rows, row: null, reason: why };
}
