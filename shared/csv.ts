// CSV (RFC 4180) as every gputel command and route writes it: one cell writer, so the CLI's
// lists, the API's reports and the export quote alike. Text comes from agents (hosts, labels,
// reasons): a text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is
// prefixed with `'` (OWASP's CSV-injection advice); numbers are written as they are.
export type Value = string | number | null | undefined;

export interface Column<T> {
  name: string;
  value(row: T): Value;
}

/** One text cell: formula-safe, quoted when it holds a quote, comma, line break or edge space. */
export function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) || /^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A time cell: ISO 8601 UTC with milliseconds, empty for none (every CSV's `time` columns). */
export function csvTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** A 0–1 share as a percentage to 3 decimals (no 7.000000000000001), empty for none: every `_pct` share. */
export function csvPct(rate: number | null | undefined): number | null {
  return rate === null || rate === undefined ? null : Number((rate * 100).toFixed(3));
}

function cell(v: Value): string {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? String(v) : csvCell(v);
}

/** A header and rows, lines joined by \n (no CR), ending with one. */
export function csv(header: readonly string[], rows: readonly (readonly Value[])[]): string {
  return `${[header, ...rows].map((r) => r.map(cell).join(",")).join("\n")}\n`;
}

export function csvOf<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  return csv(
    columns.map((c) => c.name),
    rows.map((row) => columns.map((c) => c.value(row))),
  );
}
