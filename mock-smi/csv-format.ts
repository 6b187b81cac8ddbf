// The real tool's CSV spelling, as pure functions. Values are kept as printed *with* units
// ("69.85 W"); `nounits` strips the column's unit suffix exactly as nvidia-smi does.

export interface Column {
  /** Canonical field name, as the real tool prints it in the header (aliases resolve to it). */
  name: string;
  /** Unit as printed in the header between brackets; undefined for unitless fields. */
  unit?: string | undefined;
}

export interface CsvOptions {
  header: boolean;
  units: boolean;
}

/** `--format=csv[,noheader][,nounits]` in any order; undefined when it is not a CSV format. */
export function parseFormat(spec: string): CsvOptions | undefined {
  const parts = spec.split(",").map((p) => p.trim());
  if (!parts.includes("csv")) return undefined;
  const known = new Set(["csv", "noheader", "nounits"]);
  if (parts.some((p) => !known.has(p))) return undefined;
  return { header: !parts.includes("noheader"), units: !parts.includes("nounits") };
}

/** `name [unit]`, or `name` without units. */
export function headerCell(column: Column, units: boolean): string {
  return units && column.unit !== undefined ? `${column.name} [${column.unit}]` : column.name;
}

export function headerLine(columns: readonly Column[], options: CsvOptions): string {
  return columns.map((c) => headerCell(c, options.units)).join(", ");
}

/** A value as printed: `nounits` drops the trailing ` <unit>` ("69.85 W" → "69.85"); `[N/A]` is kept. */
export function valueCell(value: string, unit: string | undefined, units: boolean): string {
  if (units || unit === undefined) return value;
  const suffix = ` ${unit}`;
  return value.endsWith(suffix) ? value.slice(0, -suffix.length) : value;
}

export function csvLine(values: readonly string[], columns: readonly Column[], options: CsvOptions): string {
  return values.map((v, i) => valueCell(v, columns[i]?.unit, options.units)).join(", ");
}

/** Parses a header cell back into a column: `power.draw [W]` → { name: "power.draw", unit: "W" }. */
export function parseHeaderCell(cell: string): Column {
  const match = /^(.*) \[([^\]]+)\]$/.exec(cell);
  return match ? { name: match[1] ?? cell, unit: match[2] } : { name: cell };
}

/** Formats a value with its unit, as the real tool does with units on. */
export function withUnit(value: string, unit: string | undefined): string {
  return unit === undefined || value.startsWith("[") || value === "N/A" ? value : `${value} ${unit}`;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** nvidia-smi's `timestamp` field: local time, `2026/07/14 08:12:38.696`. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date} ${time}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The `-q` / `-q -x` timestamp, C `ctime` style in local time: `Fri Aug  4 11:44:30 2023`. */
export function formatCtime(ms: number): string {
  const d = new Date(ms);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${time} ${d.getFullYear()}`;
}
