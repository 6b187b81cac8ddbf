// One remote-write POST and what to do with its answer. Remote-write 1.0: retry on 5xx and
// 429 (and when the receiver cannot be reached), drop the batch on any other 4xx (the receiver
// will never accept it: bad labels, too old, out of order without a window).
import { compress } from "snappyjs";
import { VERSION } from "../../shared/version.js";
import { encodeWriteRequest, type TimeSeries } from "./wire.js";

export type Outcome = "sent" | "retry" | "drop";

export interface PostResult {
  /** HTTP status; 0 when no answer came (connection refused, timeout). */
  status: number;
  /** The start of the response body, for the log. */
  body: string;
}

/** Sends one compressed body; injectable so tests and the bench can swap the transport. */
export type PostFn = (url: string, body: Uint8Array, headers: Record<string, string>) => Promise<PostResult>;

export function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return "sent";
  if (status === 0 || status === 429 || status >= 500) return "retry";
  return "drop";
}

/** The remote-write headers: the three the protocol requires, User-Agent, tenant and custom ones. */
export function requestHeaders(tenant: string | undefined, custom: Readonly<Record<string, string>>) {
  return {
    ...custom,
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": `gputel/${VERSION}`,
    ...(tenant !== undefined ? { "X-Scope-OrgID": tenant } : {}),
  };
}

/** protobuf WriteRequest, then snappy block compression (not the framed format). */
export function encodeBody(series: readonly TimeSeries[]): Uint8Array {
  return compress(encodeWriteRequest(series));
}

export function fetchPost(timeoutMs: number): PostFn {
  return async (url, body, headers) => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return { status: response.status, body: text.slice(0, 300) };
    } catch (error) {
      return {
        status: 0,
        body: error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "",
      };
    }
  };
}
