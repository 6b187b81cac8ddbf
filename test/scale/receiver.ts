// A loopback remote-write receiver for tests: decodes every request with remote.proto (so the
// hand-written encoder is checked against the schema) and answers with scripted statuses.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { uncompress } from "snappyjs";

const root = protobuf.loadSync(
  fileURLToPath(new URL("../../collector/remote-write/remote.proto", import.meta.url)),
);
export const WriteRequest = root.lookupType("prometheus.WriteRequest");

export interface DecodedSeries {
  labels: { name: string; value: string }[];
  samples: { value: number; timestamp: number }[];
}

export interface Received {
  headers: IncomingHttpHeaders;
  series: DecodedSeries[];
  status: number;
}

export function decodeBody(body: Uint8Array): DecodedSeries[] {
  const message = WriteRequest.decode(uncompress(body));
  const plain = WriteRequest.toObject(message, { longs: Number, defaults: true }) as {
    timeseries: DecodedSeries[];
  };
  return plain.timeseries;
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** Statuses for the next requests, in order; 204 once used up. */
  script: number[];
  /** Every accepted sample as "labels|timestamp" → value. */
  accepted(): Map<string, number>;
  stop(): Promise<void>;
}

export function seriesKey(labels: { name: string; value: string }[]): string {
  return labels.map((l) => `${l.name}=${l.value}`).join(",");
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = script.shift() ?? 204;
      requests.push({ headers: req.headers, series: decodeBody(Buffer.concat(chunks)), status });
      res.writeHead(status).end(status >= 300 ? `scripted ${status}` : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    requests,
    script,
    accepted() {
      const out = new Map<string, number>();
      for (const r of requests) {
        if (r.status >= 300) continue;
        for (const s of r.series) {
          for (const p of s.samples) out.set(`${seriesKey(s.labels)}|${p.timestamp}`, p.value);
        }
      }
      return out;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
