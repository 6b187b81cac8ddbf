// HTTP client for `gputel query`: GET a path from one or several collectors with the bearer
// token, turning failures into messages a person can act on (which URL, what the API said).
import { FANOUT_HEADER, olderCollector } from "../../collector/fanout/fan-out.js";
import { UNREACHABLE } from "./exit-status.js";

export class QueryError extends Error {
  constructor(
    message: string,
    /** The collector's HTTP status (UNREACHABLE when none answered): it picks the exit status. */
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  urls: readonly string[];
  token?: string;
  timeoutMs?: number;
  /**
   * Each collector answers from its own store (FANOUT_HEADER, as peers ask each other): set when
   * the CLI merges several collectors' answers itself, since one with http.peers would otherwise
   * answer for the others too and its totals would count their GPUs and flags again.
   */
  ownDataOnly?: boolean;
}

export function describeFetchError(url: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  if (code === "ECONNREFUSED")
    return `cannot reach the collector at ${url}: connection refused (is \`gputel collector\` running there?)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the collector's host in ${url}`;
  if ((error as Error).name === "TimeoutError") return `the collector at ${url} did not answer in time`;
  return `cannot reach the collector at ${url}: ${cause?.message ?? (error as Error).message}`;
}

/** The fields of the API's error answer; empty when the body is some other JSON (a proxy's). */
export function apiErrorOf(body: unknown): { message?: string; parameter?: string; error?: string } {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: a page's line breaks and control characters must not reach the terminal
const BLANKS_AND_CONTROLS = /[\s\x00-\x1f\x7f]+/g;

/**
 * The start of an answer that is not the API's JSON (a proxy's HTML error page), on one line:
 * the CLI's message stays one line naming the URL, whatever the page holds.
 */
export function excerpt(text: string): string {
  return text.replace(BLANKS_AND_CONTROLS, " ").trim().slice(0, 200);
}

export async function getJson<T>(
  base: string,
  path: string,
  query: Record<string, string | undefined>,
  options: ClientOptions,
): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const search = params.toString();
  const url = `${base.replace(/\/+$/, "")}${path}${search ? `?${search}` : ""}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: "application/json",
        ...(options.ownDataOnly ? { [FANOUT_HEADER]: "1" } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new QueryError(describeFetchError(base, error), UNREACHABLE);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new QueryError(`${base}: HTTP ${response.status}, not JSON: ${excerpt(text)}`, response.status);
  }
  if (!response.ok) {
    // A route this gputel needs that the collector lacks (it is older: the merged summary's
    // fanout/summary-gpus): a collector that fails the request (69), not a refused one (65).
    const older = olderCollector(response.status, text);
    if (older !== undefined) throw new QueryError(`${base}: ${older}`, 501);
    const b = apiErrorOf(body);
    if (response.status === 401)
      throw new QueryError(
        `${base}: unauthorized: give the API token with --token-file or GPUTEL_API_TOKEN`,
        response.status,
      );
    const which = b.parameter ? ` (parameter ${b.parameter})` : "";
    throw new QueryError(
      `${base}: ${b.message ?? b.error ?? `HTTP ${response.status}`}${which}`,
      response.status,
    );
  }
  // Some other server's JSON (a proxy's `null`): a failing collector, as for `gputel lease`.
  if (typeof body !== "object" || body === null)
    throw new QueryError(`${base}: HTTP ${response.status}, not the API's answer: ${excerpt(text)}`, 502);
  return body as T;
}

/**
 * The refusal of a GPU that every collector, asked for its own data, said it does not hold
 * (NOT_HELD): what one collector answers for a GPU it does not know (404, exit 65).
 */
export function heldByNone(ref: string, urls: readonly string[]): QueryError {
  return new QueryError(`no GPU ${JSON.stringify(ref)} on any of ${urls.join(", ")}`, 404);
}

/** The same GET on every URL, answers in URL order; the first failure fails the whole query. */
export async function getAll<T>(
  path: string,
  query: Record<string, string | undefined>,
  options: ClientOptions,
): Promise<T[]> {
  return Promise.all(options.urls.map((u) => getJson<T>(u, path, query, options)));
}
