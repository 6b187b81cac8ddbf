// `nvidia-smi pmon` output → per-process rows. Pure, never throws. Columns are found by the
// header's names, so any `-s` selection reads (`-s u`: sm mem enc dec jpg ofa; `-s um` adds fb
// and ccpm in MB before them on current drivers; older drivers lack jpg/ofa/ccpm):
//   # gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command
//   # Idx           #    C/G     MB     MB      %      %      %      %      %      %    name
//       0      11345     C   15690      0     99     10      -      -      -      -    gpu_burn
// `-` in a value column means no sample this interval (absent, not 0). A row whose pid is `-`
// is the tool saying "this GPU has no process" (every capture's idle pmon).
import { classifyLine } from "../sources/nvidia-smi/error-lines.js";

export const PMON_COLUMNS = ["sm", "mem", "enc", "dec", "jpg", "ofa", "fb", "ccpm"] as const;
export type PmonColumn = (typeof PMON_COLUMNS)[number];

export interface PmonRow {
  gpuIndex: number;
  pid: number;
  /** C (compute), G (graphics), C+G, M (MIG-era "mixed") …: as printed. */
  type: string;
  /** As printed: pmon truncates names to 15 characters. */
  name: string;
  /** sm/mem/enc/dec/jpg/ofa in %, fb/ccpm in MiB (nvidia-smi's "MB" are MiB). */
  values: Partial<Record<PmonColumn, number>>;
  /** Columns the header has that printed `-` this interval. */
  notSampled: PmonColumn[];
}

/** One sampling interval: its process rows and the GPUs that reported no process. */
export interface PmonSample {
  rows: PmonRow[];
  idleGpus: number[];
}

export type PmonResult = { ok: true; samples: PmonSample[] } | { ok: false; error: string };

/** Where a header's columns are, found once per header: each line then costs one split. */
interface PmonLayout {
  count: number;
  gpu: number;
  pid: number;
  type: number;
  values: readonly (readonly [PmonColumn, number])[];
}

/** The layout a `# gpu …` header line gives, or undefined for any other line. */
function pmonLayout(line: string): PmonLayout | undefined {
  if (!line.startsWith("#")) return undefined;
  const names = line.slice(1).trim().split(/\s+/);
  if (names[0] !== "gpu") return undefined;
  const values: [PmonColumn, number][] = [];
  for (const col of PMON_COLUMNS) {
    const at = names.indexOf(col);
    // The command is last and may hold spaces: only the columns before it are fixed.
    if (at >= 0 && at < names.length - 1) values.push([col, at]);
  }
  const fixed = (col: string) => {
    const at = names.indexOf(col);
    return at < names.length - 1 ? at : -1;
  };
  return { count: names.length, gpu: fixed("gpu"), pid: fixed("pid"), type: fixed("type"), values };
}

/** One data line: a process row, a GPU without processes, or why it does not read. */
type PmonLine = { row: PmonRow } | { idleGpu: number } | { error: string };

/** One trimmed, non-empty, non-comment line under `layout` (undefined: no header seen yet). */
function parsePmonLine(layout: PmonLayout | undefined, line: string): PmonLine {
  if (layout === undefined) return { error: errorOf(line) };
  const cells = line.split(/\s+/);
  if (cells.length < layout.count) return { error: `pmon: short line: ${line.slice(0, 200)}` };
  const gpu = cells[layout.gpu] ?? "";
  const pid = cells[layout.pid] ?? "";
  if (!/^\d{1,4}$/.test(gpu)) return { error: `pmon: bad gpu index: ${line.slice(0, 200)}` };
  const gpuIndex = Number(gpu);
  if (pid === "-") return { idleGpu: gpuIndex };
  if (!/^\d{1,10}$/.test(pid)) return { error: `pmon: bad pid: ${line.slice(0, 200)}` };
  const row: PmonRow = {
    gpuIndex,
    pid: Number(pid),
    type: cells[layout.type] ?? "",
    // The command is last and may hold spaces.
    name: cells.slice(layout.count - 1).join(" "),
    values: {},
    notSampled: [],
  };
  // An indexed loop: under the agent's --jitless, for-of and destructuring allocate an iterator
  // and a result object per step (a third of what a pmon line cost).
  for (let i = 0; i < layout.values.length; i++) {
    const entry = layout.values[i];
    if (entry === undefined) continue;
    const col = entry[0];
    const text = cells[entry[1]] ?? "";
    if (/^\d+(\.\d+)?$/.test(text)) row.values[col] = Number(text);
    else row.notSampled.push(col);
  }
  return { row };
}

/** What one line of pmon output did: the interval it closed, if any, and whether it held data. */
export type PmonRead = { closed: PmonSample | undefined; data: boolean } | { error: string };

/**
 * Reads pmon output a line at a time and splits it into intervals: a new header, a repeated
 * (GPU, pid) or a repeated idle GPU closes the interval being read. Used for a whole text
 * (`parsePmon`) and for the long-lived child's lines (`PmonStream`).
 */
export class PmonReader {
  private layout: PmonLayout | undefined;
  private current: PmonSample = { rows: [], idleGpus: [] };
  private seen = new Set<string>();

  get hasHeader(): boolean {
    return this.layout !== undefined;
  }

  push(line: string): PmonRead {
    const trimmed = line.trim();
    if (trimmed === "") return { closed: undefined, data: false };
    if (trimmed.startsWith("#")) {
      const layout = pmonLayout(trimmed);
      if (!layout) return { closed: undefined, data: false };
      this.layout = layout;
      // The header repeats in a long-lived pmon: a new header also starts a new interval.
      return { closed: this.close(), data: false };
    }
    const parsed = parsePmonLine(this.layout, trimmed);
    if ("error" in parsed) return parsed;
    const key = "idleGpu" in parsed ? `idle/${parsed.idleGpu}` : `${parsed.row.gpuIndex}/${parsed.row.pid}`;
    // -c N prints N intervals back to back without a header: a repeated (gpu, pid) starts the next.
    const closed = this.seen.has(key) ? this.close() : undefined;
    this.seen.add(key);
    if ("idleGpu" in parsed) this.current.idleGpus.push(parsed.idleGpu);
    else this.current.rows.push(parsed.row);
    return { closed, data: true };
  }

  /** Ends the interval being read; returns it unless it is empty. */
  close(): PmonSample | undefined {
    const done = this.current;
    this.current = { rows: [], idleGpus: [] };
    this.seen = new Set();
    return done.rows.length > 0 || done.idleGpus.length > 0 ? done : undefined;
  }
}

export function parsePmon(text: string): PmonResult {
  const reader = new PmonReader();
  const samples: PmonSample[] = [];
  for (const line of text.split("\n")) {
    const read = reader.push(line);
    if ("error" in read) return { ok: false, error: read.error };
    if (read.closed) samples.push(read.closed);
  }
  const last = reader.close();
  if (last) samples.push(last);
  if (!reader.hasHeader)
    return { ok: false, error: `pmon: no header in output: ${text.trim().slice(0, 200)}` };
  return { ok: true, samples };
}

/** The tool's own error line when it printed one (driver gone, GPU lost), else what was seen. */
function errorOf(line: string): string {
  const cls = classifyLine(line);
  return cls.kind === "source-error" || cls.kind === "gpu-lost"
    ? cls.line
    : `pmon: no header before: ${line.slice(0, 200)}`;
}
