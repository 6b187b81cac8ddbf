// `nvidia-smi pmon` text as the real tool prints it (drivers 590/595 in the captures): a two-line
// header, then one fixed-width row per process per interval, `-` where a value was not sampled.
// Widths copied from the captures' rows:
//   "    0      20037     C      2      0     24      -      -      -    ffmpeg         "
// and the `-s um` header (fb and ccpm in MB before the utilization columns) from published
// outputs of current drivers. Pure.

export type PmonGroup = "u" | "m";

export interface PmonLine {
  gpuIndex: number;
  /** undefined: the "no process on this GPU" row (`-` everywhere). */
  pid?: number;
  type?: string;
  name?: string;
  /** Column name → value; a missing column prints `-`. */
  values: Partial<Record<string, number>>;
}

const COLUMNS: Record<PmonGroup, { name: string; unit: string }[]> = {
  m: [
    { name: "fb", unit: "MB" },
    { name: "ccpm", unit: "MB" },
  ],
  u: ["sm", "mem", "enc", "dec", "jpg", "ofa"].map((name) => ({ name, unit: "%" })),
};

/** `-s` value → column groups in print order (memory first, as the real tool does). */
export function parseSelect(select: string | undefined): PmonGroup[] | undefined {
  if (select === undefined) return ["u"];
  if (!/^[um]+$/.test(select)) return undefined;
  return (["m", "u"] as const).filter((g) => select.includes(g));
}

function columns(groups: readonly PmonGroup[]): { name: string; unit: string }[] {
  return groups.flatMap((g) => COLUMNS[g]);
}

export function pmonHeader(groups: readonly PmonGroup[]): string {
  const cols = columns(groups);
  const names = `# gpu${"pid".padStart(12)}${"type".padStart(7)}${cols.map((c) => c.name.padStart(7)).join("")}    command \n`;
  const units = `# Idx${"#".padStart(12)}${"C/G".padStart(7)}${cols.map((c) => c.unit.padStart(7)).join("")}    name \n`;
  return names + units;
}

export function pmonRow(line: PmonLine, groups: readonly PmonGroup[]): string {
  const cell = (v: number | undefined) => (v === undefined ? "-" : String(Math.round(v))).padStart(7);
  const values = columns(groups)
    .map((c) => cell(line.pid === undefined ? undefined : line.values[c.name]))
    .join("");
  const name = (line.pid === undefined ? "-" : (line.name ?? "-")).slice(0, 15).padEnd(15);
  return `${String(line.gpuIndex).padStart(5)}${(line.pid === undefined ? "-" : String(line.pid)).padStart(11)}${(line.type ?? "-").padStart(6)}${values}    ${name}\n`;
}
