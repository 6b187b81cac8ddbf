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

export function parsePmon(text: string): PmonResult {
  let columns: string[] | undefined;
  const samples: PmonSample[] = [];
  let current: PmonSample = { rows: [], idleGpus: [] };
  const seen = new Set<string>();
  const flush = () => {
    if (current.rows.length > 0 || current.idleGpus.length > 0) samples.push(current);
    current = { rows: [], idleGpus: [] };
    seen.clear();
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const names = line.slice(1).trim().split(/\s+/);
      if (names[0] === "gpu") {
        // The header repeats in a long-lived pmon: a new header also starts a new interval.
        flush();
        columns = names;
      }
      continue;
    }
    if (columns === undefined) return { ok: false, error: errorOf(line) };
    const cells = line.split(/\s+/);
    if (cells.length < columns.length) return { ok: false, error: `pmon: short line: ${line.slice(0, 200)}` };
    // The command is last and may hold spaces.
    const fixed = cells.slice(0, columns.length - 1);
    const name = cells.slice(columns.length - 1).join(" ");
    const at = (col: string) => fixed[columns?.indexOf(col) ?? -1];
    const gpu = at("gpu") ?? "";
    const pid = at("pid") ?? "";
    if (!/^\d{1,4}$/.test(gpu)) return { ok: false, error: `pmon: bad gpu index: ${line.slice(0, 200)}` };
    const gpuIndex = Number(gpu);
    if (pid === "-") {
      if (current.idleGpus.includes(gpuIndex)) flush();
      current.idleGpus.push(gpuIndex);
      continue;
    }
    if (!/^\d{1,10}$/.test(pid)) return { ok: false, error: `pmon: bad pid: ${line.slice(0, 200)}` };
    const key = `${gpuIndex}/${pid}`;
    // -c N prints N intervals back to back without a header: a repeated (gpu, pid) starts the next.
    if (seen.has(key)) flush();
    seen.add(key);
    const row: PmonRow = {
      gpuIndex,
      pid: Number(pid),
      type: at("type") ?? "",
      name,
      values: {},
      notSampled: [],
    };
    for (const col of PMON_COLUMNS) {
      const text = at(col);
      if (text === undefined) continue;
      if (/^\d+(\.\d+)?$/.test(text)) row.values[col] = Number(text);
      else row.notSampled.push(col);
    }
    current.rows.push(row);
  }
  flush();
  if (columns === undefined)
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
