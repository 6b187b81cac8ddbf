// Parses the arguments the real nvidia-smi would get into one command. Pure.
import { type CsvOptions, parseFormat } from "./csv-format.js";

export type SmiCommand =
  | { kind: "text"; topic: "version" | "help" | "help-query-gpu" | "help-query-compute-apps" | "list" }
  | {
      kind: "query";
      table: "gpu" | "compute-apps";
      fields: string[];
      format: CsvOptions;
      loopMs: number | undefined;
      ids: string[] | undefined;
    }
  | { kind: "xml"; ids: string[] | undefined }
  /** `pmon [-i ID] [-s um] [-c N] [-d SECONDS]`; count undefined: until killed. */
  | {
      kind: "pmon";
      ids: string[] | undefined;
      select: string | undefined;
      count: number | undefined;
      delayS: number;
    }
  /** Anything else: replay may still know it verbatim; otherwise it is reported as unsupported. */
  | { kind: "other"; args: string[] };

/** The real tool's answer to arguments it cannot combine (stdout, exit 2). */
export const INVALID_COMBINATION =
  "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

// Options that take a value: `-l 5`, `--loop=5`, `-lms 100`, `-i 0,1`, `--format=csv`.
const VALUED: Record<string, string> = {
  "-l": "loop",
  "--loop": "loop",
  "-lms": "loop-ms",
  "--loop-ms": "loop-ms",
  "-i": "id",
  "--id": "id",
  "--format": "format",
  "--query-gpu": "query-gpu",
  "--query-compute-apps": "query-compute-apps",
};

const FLAGS: Record<string, string> = {
  "--version": "version",
  "-h": "help",
  "--help": "help",
  "--help-query-gpu": "help-query-gpu",
  "--help-query-compute-apps": "help-query-compute-apps",
  "-L": "list",
  "--list-gpus": "list",
  "-q": "query",
  "--query": "query",
  "-x": "xml",
  "--xml-format": "xml",
};

export function parseSmiArgs(args: readonly string[]): SmiCommand {
  if (args[0] === "pmon") return parsePmonArgs(args);
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(0, eq) : arg;
    const valued = VALUED[key];
    if (valued !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) return { kind: "other", args: [...args] };
      values.set(valued, value);
      continue;
    }
    const flag = FLAGS[arg];
    if (flag === undefined) return { kind: "other", args: [...args] };
    flags.add(flag);
  }
  return build(values, flags, args);
}

function build(values: Map<string, string>, flags: Set<string>, args: readonly string[]): SmiCommand {
  const other: SmiCommand = { kind: "other", args: [...args] };
  const ids = values
    .get("id")
    ?.split(",")
    .map((s) => s.trim());
  const queryGpu = values.get("query-gpu");
  const queryApps = values.get("query-compute-apps");
  if (queryGpu !== undefined || queryApps !== undefined) {
    if (flags.size > 0 || (queryGpu !== undefined && queryApps !== undefined)) return other;
    const format = parseFormat(values.get("format") ?? "");
    const loopMs = loopInterval(values);
    if (format === undefined || loopMs === null) return other;
    const fields = (queryGpu ?? queryApps ?? "").split(",").map((s) => s.trim());
    return {
      kind: "query",
      table: queryGpu !== undefined ? "gpu" : "compute-apps",
      fields,
      format,
      loopMs,
      ids,
    };
  }
  if (values.has("format") || values.has("loop") || values.has("loop-ms")) return other;
  if (flags.has("query") && flags.has("xml") && flags.size === 2) return { kind: "xml", ids };
  if (flags.size === 1 && !values.has("id")) {
    const [flag] = [...flags];
    if (
      flag === "version" ||
      flag === "help" ||
      flag === "help-query-gpu" ||
      flag === "help-query-compute-apps"
    ) {
      return { kind: "text", topic: flag };
    }
    if (flag === "list") return { kind: "text", topic: "list" };
  }
  return other;
}

/** Loop interval in ms; undefined for one shot; null when malformed. */
function loopInterval(values: Map<string, string>): number | undefined | null {
  const seconds = values.get("loop");
  const ms = values.get("loop-ms");
  if (seconds !== undefined && ms !== undefined) return null;
  const text = seconds ?? ms;
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) <= 0) return null;
  return seconds !== undefined ? Number(text) * 1000 : Number(text);
}

// pmon's own options (`nvidia-smi pmon -h`): -i, -c, -d 1..10, -s; anything else is "other".
const PMON_VALUED = new Set(["-i", "-c", "-d", "-s"]);

function parsePmonArgs(args: readonly string[]): SmiCommand {
  const other: SmiCommand = { kind: "other", args: [...args] };
  const values = new Map<string, string>();
  for (let i = 1; i < args.length; i++) {
    const key = args[i] ?? "";
    const value = args[i + 1];
    if (!PMON_VALUED.has(key) || value === undefined) return other;
    values.set(key, value);
    i++;
  }
  const count = values.get("-c");
  const delay = values.get("-d") ?? "1";
  if ((count !== undefined && !/^[1-9]\d*$/.test(count)) || !/^([1-9]|10)$/.test(delay)) return other;
  return {
    kind: "pmon",
    ids: values
      .get("-i")
      ?.split(",")
      .map((s) => s.trim()),
    select: values.get("-s"),
    count: count === undefined ? undefined : Number(count),
    delayS: Number(delay),
  };
}
