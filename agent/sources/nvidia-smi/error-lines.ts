// Recognises the lines nvidia-smi prints instead of data (test/fixtures/nvidia-smi/errors.md):
// one GPU unreachable (the others keep reporting) or the whole source failed. Pure.
import type { ErrorCode } from "../../../shared/errors.js";

export type LineClass =
  | { kind: "gpu-lost"; line: string; index?: number; busId?: string }
  | { kind: "source-error"; line: string; code: ErrorCode }
  | { kind: "blank" }
  | { kind: "other" };

const UNABLE = /^Unable to determine the device handle for GPU\s*(.+?):\s+(.*)$/i;
const BUS_ID = /^([0-9a-f]{1,8}):([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i;
const BUS_ID_ANYWHERE = /\b([0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\b/i;

const SOURCE_ERRORS: readonly [RegExp, ErrorCode][] = [
  [/couldn't communicate with the NVIDIA driver/i, "GPUTEL_E_NVSMI_DRIVER"],
  [/Failed to initialize NVML/i, "GPUTEL_E_NVSMI_DRIVER"],
  [/Driver\/library version mismatch/i, "GPUTEL_E_NVSMI_DRIVER"],
  [/^No devices were found/i, "GPUTEL_E_NVSMI_NO_DEVICES"],
  [/is not a valid field to query/i, "GPUTEL_E_NVSMI_OUTPUT"],
  [/^Invalid combination of input arguments/i, "GPUTEL_E_NVSMI_OUTPUT"],
];

/**
 * PCI bus ids come as `00000000:34:00.0` (query output) or `0000:34:00.0` (error lines), in
 * either case: compare them in one canonical form.
 */
export function normaliseBusId(id: string): string | undefined {
  const m = BUS_ID.exec(id.trim());
  if (!m) return undefined;
  const [, domain = "", bus = "", device = "", fn = ""] = m;
  return `${Number.parseInt(domain, 16).toString(16)}:${bus.padStart(2, "0")}:${device.padStart(2, "0")}.${fn}`.toLowerCase();
}

/** Classifies a line that is not a data row. */
export function classifyLine(raw: string): LineClass {
  const line = raw.trim();
  if (line === "") return { kind: "blank" };
  const unable = UNABLE.exec(line);
  if (unable) return lostLine(line, unable[1] ?? "", unable[2] ?? "");
  for (const [pattern, code] of SOURCE_ERRORS) {
    if (pattern.test(line)) return { kind: "source-error", line, code };
  }
  if (/GPU is lost/i.test(line)) {
    const bus = BUS_ID_ANYWHERE.exec(line)?.[1];
    const busId = bus === undefined ? undefined : normaliseBusId(bus);
    return busId === undefined ? { kind: "gpu-lost", line } : { kind: "gpu-lost", line, busId };
  }
  return { kind: "other" };
}

// `GPU1: 0000:34:00.0: Unknown Error`, `GPU0000:08:00.0: Unknown Error`, `GPU 0: Unknown Error`.
function lostLine(line: string, id: string, rest: string): LineClass {
  const result: { kind: "gpu-lost"; line: string; index?: number; busId?: string } = {
    kind: "gpu-lost",
    line,
  };
  if (/^\d{1,4}$/.test(id)) result.index = Number(id);
  else {
    const busId = normaliseBusId(id);
    if (busId !== undefined) result.busId = busId;
  }
  const busInRest = /^([0-9a-f]{1,8}:[0-9a-f]{1,2}:[0-9a-f]{1,2}\.[0-7]):/i.exec(rest)?.[1];
  if (busInRest !== undefined && result.busId === undefined) {
    const busId = normaliseBusId(busInRest);
    if (busId !== undefined) result.busId = busId;
  }
  return result;
}

const REFUSED_FIELD = /^Field "([^"]+)" is not a valid field to query/i;

/** The field a `Field "x" is not a valid field to query.` line names; undefined for other lines. */
export function refusedField(line: string): string | undefined {
  return REFUSED_FIELD.exec(line.trim())?.[1];
}

/** A one-shot's output (stdout then stderr) as trimmed, non-empty lines. */
export function outputLines(result: { stdout: string; stderr: string }): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The first line that names a lost GPU or a whole-source error, as printed. */
export function firstErrorLine(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const c = classifyLine(line);
    if (c.kind === "gpu-lost" || c.kind === "source-error") return c.line;
  }
  return undefined;
}
