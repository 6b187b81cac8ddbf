// Asks every peer collector the same question over HTTP, in parallel, and hands back each answer
// or the reason it is missing: a merged answer from fewer collectors than asked is partial, and
// says so. Peers answer with their own data only (FANOUT_HEADER), so a query never loops.

import type { TSchema } from "@sinclair/typebox";
import { errorMessage } from "../../shared/errors.js";
import { misfit } from "./answer-shape.js";

/** Sent on peer requests; a collector that sees it answers from its own store, without fanning out. */
export const FANOUT_HEADER = "x-gputel-fanout";

/**
 * What a collector asked with FANOUT_HEADER about one GPU it holds no share of answers: alone on
 * gpus/:id, added to its empty list on a GPU-filtered one (flags?gpu=, processes?gpu=,
 * gpus/:id/processes). The asker (a front collector, `gputel query --url a,b`), which may not know the GPU either,
 * needs "none here" apart from "held here, nothing listed".
 */
export const NOT_HELD = { gpuHeld: false } as const;

export function isNotHeld(answer: object): answer is typeof NOT_HELD {
  return (answer as { gpuHeld?: unknown }).gpuHeld === false;
}

export type PeerAnswer<T> = { peer: string; ok: true; data: T } | { peer: string; ok: false; error: string };

/**
 * The largest answer body read from a peer (after any content decoding): a merged list of 10,000
 * GPUs or a month's lease parts are tens of MB; a peer (or another program on its port) sending
 * without end must not take the collector's memory.
 */
export const MAX_PEER_ANSWER_BYTES = 256 * 1024 * 1024;

export interface FanOutOptions {
  timeoutMs?: number;
  /** MAX_PEER_ANSWER_BYTES unless given (tests). */
  maxBytes?: number;
  fetchFn?: typeof fetch;
  /** What every answer must hold (peer-answers.ts): one that does not makes its peer missing. */
  answer?: TSchema;
}

/**
 * GET `path` (e.g. "/api/v1/gpus") with `query` on every peer base URL, Bearer `token` when
 * given, or POST `body` as JSON when one is given; JSON bodies come back in peer order. Never
 * throws: a failing peer, or one whose answer does not fit `options.answer`, is an ok:false entry.
 */
export async function fanOut<T>(
  peers: readonly string[],
  path: string,
  query: Readonly<Record<string, string>>,
  token?: string,
  options: FanOutOptions = {},
  body?: unknown,
): Promise<PeerAnswer<T>[]> {
  const doFetch = options.fetchFn ?? fetch;
  const search = new URLSearchParams(query).toString();
  return Promise.all(
    peers.map(async (peer): Promise<PeerAnswer<T>> => {
      const url = `${peer.replace(/\/+$/, "")}${path}${search ? `?${search}` : ""}`;
      try {
        const response = await doFetch(url, {
          headers: {
            accept: "application/json",
            [FANOUT_HEADER]: "1",
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          ...(body !== undefined ? { method: "POST", body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        if (!response.ok) {
          const text = await readBounded(response, 200, false);
          return { peer, ok: false, error: refusal(response.status, text) };
        }
        const data: unknown = JSON.parse(
          await readBounded(response, options.maxBytes ?? MAX_PEER_ANSWER_BYTES),
        );
        const wrong = options.answer ? misfit(data, options.answer) : undefined;
        if (wrong !== undefined) return { peer, ok: false, error: `not a gputel answer: ${wrong}` };
        return { peer, ok: true, data: data as T };
      } catch (error) {
        return { peer, ok: false, error: errorMessage(error) };
      }
    }),
  );
}

/**
 * Why a peer refused: its status and the start of its answer, or, for a route it does not have,
 * that it is older than this collector (olderCollector).
 */
function refusal(status: number, text: string): string {
  return olderCollector(status, text) ?? `HTTP ${status} ${text}`.trim();
}

/**
 * For a collector's 404 for an unknown route (collector/api/server.ts: `no route GET /api/…`),
 * what to tell the operator; else undefined. A route added to the fan-out (fanout/open-flags,
 * fanout/summary-gpus) is missing on a collector from before it: the fix is an upgrade, not a
 * look at the URL or the network. `gputel query --url a,b` says the same.
 */
export function olderCollector(status: number, text: string): string | undefined {
  if (status !== 404) return undefined;
  try {
    const body: unknown = JSON.parse(text);
    const { error, message } = (typeof body === "object" && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    return error === "not_found" && typeof message === "string" && message.startsWith("no route ")
      ? `${message} there: a gputel collector older than this one (upgrade it)`
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The body as text, read up to `maxBytes`: past it, the rest is not read and the request is
 * cancelled, then (when `refuse`) it throws, else the text so far is the answer.
 */
async function readBounded(response: Response, maxBytes: number, refuse = true): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      if (refuse) throw new Error(`answer over ${maxBytes} bytes`);
      break;
    }
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .slice(0, refuse ? undefined : maxBytes);
}

/** The data of the peers that answered and the errors of those that did not. */
export function settle<T>(answers: readonly PeerAnswer<T>[]): {
  data: T[];
  missing: { peer: string; error: string }[];
} {
  const data: T[] = [];
  const missing: { peer: string; error: string }[] = [];
  for (const a of answers) {
    if (a.ok) data.push(a.data);
    else missing.push({ peer: a.peer, error: a.error });
  }
  return { data, missing };
}
