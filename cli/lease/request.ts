// Any-method JSON request for `gputel lease` (the query client's GET, with a body): the same URL
// and token handling, and failures that keep the HTTP status so the CLI can pick its exit code.

import { apiErrorOf, type ClientOptions, describeFetchError, excerpt } from "../query/client.js";
import { UNREACHABLE } from "../query/exit-status.js";

export class RequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the collector could not be reached. */
    readonly status: number,
  ) {
    super(message);
  }
}

export async function requestJson<T>(
  method: string,
  path: string,
  options: ClientOptions & { query?: Record<string, string | undefined>; body?: unknown },
): Promise<T> {
  const base = (options.urls[0] ?? "").replace(/\/+$/, "");
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) params.set(k, v);
  const search = params.toString();
  let response: Response;
  try {
    response = await fetch(`${base}${path}${search ? `?${search}` : ""}`, {
      method,
      headers: {
        accept: "application/json",
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
  } catch (error) {
    throw new RequestError(describeFetchError(base, error), UNREACHABLE);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestError(`${base}: HTTP ${response.status}, not JSON: ${excerpt(text)}`, response.status);
  }
  if (!response.ok) {
    const b = apiErrorOf(body);
    if (response.status === 401)
      throw new RequestError(
        `${base}: unauthorized: give the API token with --token-file or GPUTEL_API_TOKEN`,
        401,
      );
    // An import's message names its line and field already (`line 3, field currency: …`).
    const named = !b.parameter || (b.message ?? "").includes(`field ${b.parameter}:`);
    const field = named ? "" : ` (field ${b.parameter})`;
    throw new RequestError(
      `${base}: ${b.message ?? b.error ?? `HTTP ${response.status}`}${field}`,
      response.status,
    );
  }
  // Some other server's JSON (a proxy's `null`): a 5xx-like failure, not data to print.
  if (typeof body !== "object" || body === null)
    throw new RequestError(`${base}: HTTP ${response.status}, not the API's answer: ${excerpt(text)}`, 502);
  return body as T;
}
