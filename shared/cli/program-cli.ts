// What `gputel agent` and `gputel collector` both do before running: the check-config and
// install/uninstall subcommands, strict option parsing, --help and --version, and loading the
// configuration (file, GPUTEL_* variables, then the flags) with every problem reported at once.
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { TObject } from "@sinclair/typebox";
import { checkConfigCommand } from "../config/check-config.js";
import type { ConfigSpec, LoadResult } from "../config/load.js";
import { EX_CONFIG, formatProblems } from "../config/problems.js";
import { errorMessage } from "../errors.js";
import type { InstallProgram } from "../install/command.js";
import { VERSION } from "../version.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export type OptionValues<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>["values"];

export interface ProgramCli<S extends TObject, O extends Options, C> {
  spec: ConfigSpec<S>;
  usage: string;
  /** Must hold `config` (-c), `help` (-h) and `version` (-V). */
  options: O;
  /** Loaded on demand: install code is not needed to run. */
  install(): Promise<InstallProgram>;
  /** The flags as config overrides keyed by dotted path, or a usage error. */
  overrides(values: OptionValues<O>): Record<string, unknown> | string;
  load(file: string | undefined, overrides: Record<string, unknown>): LoadResult<C>;
}

/** Either the exit status (a subcommand ran, help, a usage or config error) or what to run with. */
export async function openProgramCli<S extends TObject, O extends Options, C>(
  args: string[],
  cli: ProgramCli<S, O, C>,
): Promise<number | { values: OptionValues<O>; config: C }> {
  const name = `gputel ${cli.spec.program}`;
  const [sub, ...rest] = args;
  if (sub === "check-config") return checkConfigCommand(cli.spec, rest);
  if (sub === "install" || sub === "uninstall") {
    const { installCommand, uninstallCommand } = await import("../install/command.js");
    const program = await cli.install();
    return sub === "install" ? installCommand(program, rest) : uninstallCommand(program, rest);
  }
  let values: OptionValues<O>;
  try {
    values = parseArgs({ args, options: cli.options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(`${name}: ${errorMessage(error)} (GPUTEL_E_USAGE)\n\n${cli.usage}`);
    return 64;
  }
  const common = values as { config?: string; help?: boolean; version?: boolean };
  if (common.help) {
    process.stdout.write(cli.usage);
    return 0;
  }
  if (common.version) {
    process.stdout.write(`gputel ${VERSION}\n`);
    return 0;
  }
  const overrides = cli.overrides(values);
  if (typeof overrides === "string") {
    process.stderr.write(`${name}: ${overrides} (GPUTEL_E_USAGE)\n`);
    return 64;
  }
  const loaded = cli.load(common.config, overrides);
  if (!loaded.ok) {
    process.stderr.write(formatProblems(cli.spec.program, loaded.file, loaded.problems));
    return EX_CONFIG;
  }
  return { values, config: loaded.config };
}
