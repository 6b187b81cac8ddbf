// `gputel agent check-config` / `gputel collector check-config`: validate without starting,
// print the effective configuration (secrets masked) or every problem; exit 0 or 78.
import type { TObject } from "@sinclair/typebox";
import { stringify } from "yaml";
import { MASK, maskDeep, maskHeaders } from "../mask.js";
import { configKeys, getPath, setPath } from "./keys.js";
import { type ConfigSpec, type LoadOptions, loadConfig } from "./load.js";
import { EX_CONFIG, formatProblems } from "./problems.js";

export { MASK };

/**
 * A copy with every secret key that is set replaced by a mask, every URL's password and
 * credential query value masked (shared/mask.ts), and credential headers of header maps masked.
 */
export function maskSecrets<S extends TObject>(spec: ConfigSpec<S>, config: unknown): unknown {
  const copy = maskDeep(structuredClone(config)) as Record<string, unknown>;
  const schema = spec.schema({ env: {}, hostname: "localhost" });
  for (const key of configKeys(schema)) {
    const value = getPath(copy, key.segments);
    if (value === undefined) continue;
    if (key.secret) setPath(copy, key.segments, MASK);
    else if (key.schema.headers === true && typeof value === "object" && value !== null)
      setPath(copy, key.segments, maskHeaders(value as Record<string, string>));
  }
  return copy;
}

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = (program: string) =>
  `Usage: gputel ${program} check-config [--config FILE]\n\nValidates the configuration (file, GPUTEL_* variables) and prints the effective result, secrets masked.\nExit status: 0 when valid, 78 (EX_CONFIG) with every problem listed otherwise.\n`;

/** Parses `[--config FILE | -c FILE | --config=FILE]`; a string is a usage error. */
export function parseConfigArgs(args: readonly string[]): { file?: string; help?: boolean } | string {
  const out: { file?: string; help?: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-h" || arg === "--help") out.help = true;
    else if (arg === "--config" || arg === "-c") {
      const file = args[++i];
      if (file === undefined) return `${arg} needs a file`;
      out.file = file;
    } else if (arg.startsWith("--config=")) out.file = arg.slice("--config=".length);
    else return `unknown argument '${arg}'`;
  }
  return out;
}

export async function checkConfigCommand<S extends TObject>(
  spec: ConfigSpec<S>,
  args: readonly string[],
  options: Omit<LoadOptions, "file"> = {},
  io: CheckIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
): Promise<number> {
  const parsed = parseConfigArgs(args);
  if (typeof parsed === "string") {
    io.stderr(`gputel ${spec.program} check-config: ${parsed} (GPUTEL_E_USAGE)\n\n${USAGE(spec.program)}`);
    return 64;
  }
  if (parsed.help) {
    io.stdout(USAGE(spec.program));
    return 0;
  }
  const result = loadConfig(spec, { ...options, file: parsed.file });
  if (!result.ok) {
    io.stderr(formatProblems(spec.program, result.file, result.problems));
    return EX_CONFIG;
  }
  const from = result.file ? `${result.file}` : `defaults (${spec.defaultFile} absent)`;
  const overridden = [...result.sources].map(([path, source]) => `#   ${path} ← ${source}`);
  io.stdout(
    [
      `# gputel ${spec.program}: configuration valid`,
      `# from ${from}`,
      ...(overridden.length ? ["# overridden:", ...overridden] : []),
      stringify(maskSecrets(spec, result.config)),
    ].join("\n"),
  );
  return 0;
}
