// Configuration problems: every one is collected with its key path, then reported at once.
import { parseDuration } from "../duration.js";
import { maskUrl } from "../mask.js";

/** sysexits.h EX_CONFIG: the units list it in RestartPreventExitStatus, so a bad file is not retried. */
export const EX_CONFIG = 78;

export interface ConfigProblem {
  /** Dotted key path ("broker.url", "retention[1]"); "" for the file as a whole. */
  path: string;
  message: string;
  /** Where the value came from when not the file: "GPUTEL_INTERVAL", "--interval", "hostname". */
  source?: string;
}

/** The TLS check both programs make: a client certificate and its key go together. */
export function tlsProblems(
  broker: { cert_file?: string; key_file?: string },
  prefix = "broker",
): ConfigProblem[] {
  if ((broker.cert_file === undefined) === (broker.key_file === undefined)) return [];
  const missing = broker.cert_file === undefined ? "cert_file" : "key_file";
  return [{ path: `${prefix}.${missing}`, message: "cert_file and key_file go together (mutual TLS)" }];
}

/** The longest delay a Node timer keeps: a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration (its format already checked) longer than `maxMs`: refused under its key, saying why. */
export function durationAbove(path: string, text: string, maxMs: number, why: string): ConfigProblem[] {
  const ms = parseDuration(text);
  return ms !== undefined && ms > maxMs ? [{ path, message: `${text} is too long: ${why}` }] : [];
}

/** Durations used as timer delays, each refused past what a timer keeps. */
export function timerProblems(durations: Readonly<Record<string, string>>): ConfigProblem[] {
  return Object.entries(durations).flatMap(([path, text]) =>
    durationAbove(path, text, MAX_TIMER_MS, "a timer waits at most about 24.8 days"),
  );
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.path === "" ? "" : `${problem.path}: `;
  const source = problem.source ? ` (from ${problem.source})` : "";
  // A message may quote the value it refuses: a URL's password in it is masked.
  return `${where}${maskUrl(problem.message)}${source}`;
}

/** The text a CLI prints to stderr before exiting with EX_CONFIG. */
export function formatProblems(
  program: string,
  file: string | undefined,
  problems: readonly ConfigProblem[],
): string {
  const head = `gputel ${program}: invalid configuration${file ? ` (${file})` : ""}, ${problems.length} problem${problems.length === 1 ? "" : "s"} (GPUTEL_E_CONFIG):`;
  return `${[head, ...problems.map((p) => `  ${formatProblem(p)}`)].join("\n")}\n`;
}

/** "/broker/url" → "broker.url"; "/retention/1" → "retention[1]". */
export function pointerToPath(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}
