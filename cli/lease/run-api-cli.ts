// The one way an API-talking subcommand (`gputel lease`, `gputel report`) turns its outcome into
// output and an exit status: 64 usage, 66 unreadable input, 78 refused token, 65 other refusals
// (4xx), 69 collector unreachable or failing (5xx), as query/exit-status.ts maps them for every
// API-talking command. A command adds its own mapping first.

import { exitStatusOfHttp } from "../query/exit-status.js";
import { OptionError } from "../query/options.js";
import type { LeaseIo } from "./cli.js";
import { RequestError } from "./request.js";

export class UsageError extends Error {}

export class InputError extends Error {}

/**
 * Bad usage (exit 64) naming every option of `needed` not given: a command checks before its
 * request, so a missing option is never sent to the collector to be refused (65).
 */
export function requireOptions<V extends object>(
  values: V,
  needed: readonly (keyof V & string)[],
  what: string,
): void {
  const missing = needed.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`${what} needs ${missing.map((m) => `--${m}`).join(", ")}`);
}

export interface ApiCli<V> {
  /** The program name in messages, e.g. `gputel lease`. */
  name: string;
  usage: string;
  parse(args: string[]): { values: V & { help?: boolean | undefined }; positionals: string[] };
  command(values: V, positionals: string[], io: LeaseIo): Promise<void>;
  /** An exit status for a command's own error types; undefined for the shared mapping. */
  exitCodeOf?(error: unknown): number | undefined;
}

export async function runApiCli<V>(cli: ApiCli<V>, args: string[], io: LeaseIo): Promise<number> {
  let parsed: ReturnType<ApiCli<V>["parse"]>;
  try {
    parsed = cli.parse(args);
  } catch (error) {
    io.stderr(`${cli.name}: ${(error as Error).message}\n\n${cli.usage}`);
    return 64;
  }
  if (parsed.values.help) {
    io.stdout(cli.usage);
    return 0;
  }
  try {
    await cli.command(parsed.values, parsed.positionals, io);
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof UsageError || error instanceof OptionError) {
      io.stderr(`${cli.name}: ${message}\n\n${cli.usage}`);
      return 64;
    }
    io.stderr(`${cli.name}: ${message}\n`);
    if (error instanceof InputError) return 66;
    const own = cli.exitCodeOf?.(error);
    if (own !== undefined) return own;
    if (error instanceof RequestError) return exitStatusOfHttp(error.status);
    throw error;
  }
}
