// Reads a capture in the format of test/fixtures/nvidia-smi/captures/ (README there): a header,
// then sections `\n\n####\n# <phase> :: <name>\n# $ nvidia-smi <args>\n####\n<output verbatim>`,
// with `\n# (exit code: N)\n` appended when the command failed. Pure.
import { type Column, parseHeaderCell } from "./csv-format.js";

export type Phase = "idle" | "load";

export interface CaptureSection {
  phase: string;
  name: string;
  /** The nvidia-smi arguments as one string ("" for the bare command); undefined for derived sections. */
  args: string | undefined;
  output: string;
  exitCode: number;
}

export interface Capture {
  sections: readonly CaptureSection[];
}

export interface CsvTable {
  columns: Column[];
  rows: string[][];
}

const RULE = "#".repeat(80);
const SECTION_START = new RegExp(
  `\\n\\n${RULE}\\n# ([^\\n]*?) :: ([^\\n]*)\\n(?:# \\$ ([^\\n]*)\\n)?${RULE}\\n`,
  "g",
);
const EXIT_TRAILER = /\n# \(exit code: (\d+)\)\n$/;

export function parseCapture(text: string): Capture {
  const starts = [...text.matchAll(SECTION_START)];
  const sections: CaptureSection[] = [];
  starts.forEach((match, i) => {
    const bodyStart = (match.index ?? 0) + match[0].length;
    const next = starts[i + 1];
    let output = text.slice(bodyStart, next === undefined ? text.length : next.index);
    let exitCode = 0;
    const trailer = EXIT_TRAILER.exec(output);
    if (trailer) {
      exitCode = Number(trailer[1]);
      output = output.slice(0, trailer.index);
    }
    const command = match[3];
    sections.push({
      phase: match[1] ?? "",
      name: match[2] ?? "",
      args: command === undefined ? undefined : command.replace(/^\S+ ?/, ""),
      output,
      exitCode,
    });
  });
  return { sections };
}

/** The first section of a phase whose name starts with `prefix` (e.g. "query-gpu"). */
export function findSection(capture: Capture, phase: string, prefix: string): CaptureSection | undefined {
  return capture.sections.find((s) => s.phase === phase && s.name.startsWith(prefix));
}

/** A section whose command had exactly these arguments, in the phase or among capabilities. */
export function sectionForArgs(
  capture: Capture,
  phase: Phase,
  args: readonly string[],
): CaptureSection | undefined {
  const joined = args.join(" ");
  return (
    capture.sections.find((s) => s.phase === phase && s.args === joined) ??
    capture.sections.find((s) => s.phase === "capabilities" && s.args === joined)
  );
}

/** Splits `--format=csv` output (header line, then rows) into columns and cells. */
export function parseCsvTable(output: string): CsvTable {
  const lines = output.split("\n").filter((l) => l !== "");
  const [header, ...rows] = lines;
  const columns = header === undefined ? [] : header.split(", ").map(parseHeaderCell);
  return { columns, rows: rows.map((r) => r.split(", ")) };
}

/** `Key : value` lines of the `-q` section, first occurrence under an exact indentation. */
export function qValue(qOutput: string, key: string, indent = 8): string | undefined {
  const prefix = `${" ".repeat(indent)}${key} `;
  for (const line of qOutput.split("\n")) {
    if (line.startsWith(prefix) && /^\s*$/.test(line.slice(indent + key.length, line.indexOf(":")))) {
      return line.slice(line.indexOf(":") + 1).trim();
    }
  }
  return undefined;
}

/** Top-level `-q` values (`Driver Version`, `CUDA Version`, `Attached GPUs`). */
export function qTopValue(qOutput: string, key: string): string | undefined {
  return qValue(qOutput, key, 0);
}
