// Aligned text tables with optional ANSI colour. Widths are terminal columns (display-width.ts).
import { displayWidth } from "./display-width.js";

export interface Style {
  colour: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, grey: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(style: Style, colour: Colour | undefined, text: string): string {
  if (!style.colour || colour === undefined) return text;
  return `\x1b[${CODES[colour]}m${text}\x1b[0m`;
}

export interface Cell {
  text: string;
  colour?: Colour;
  /** Numbers align right. */
  right?: boolean;
}

export function table(style: Style, header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]?.text ?? ""))),
  );
  const line = (cells: readonly Cell[]) =>
    cells
      .map((c, i) => {
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(c.text)));
        const body = paint(style, c.colour, c.text);
        return c.right ? pad + body : i === cells.length - 1 ? body : body + pad;
      })
      .join("  ")
      .trimEnd();
  const head = line(header.map((h, i) => ({ text: h, right: rows[0]?.[i]?.right ?? false })));
  return `${[paint(style, "bold", head), ...rows.map(line)].join("\n")}\n`;
}

export function fixed(value: number | null | undefined, digits: number, unit = ""): string {
  if (value === null || value === undefined) return "–";
  return `${value.toFixed(digits)}${unit}`;
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "–" : `${(ratio * 100).toFixed(1)} %`;
}

export function duration(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}
