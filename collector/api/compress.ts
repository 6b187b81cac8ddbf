// Compressed answers: every JSON (and /metrics text) answer larger than a packet is sent with
// brotli or gzip when the client accepts it. A 10,000-GPU list shrinks ~20×, and a wall screen
// that polls every few seconds pays for bytes on every poll. node:zlib's asynchronous calls run
// on libuv's thread pool, so compressing a large answer does not hold the event loop (ingest
// acknowledgements share it); brotli runs at a low quality, which is fast and still ~gzip -9.
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import type { FastifyInstance } from "fastify";

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Below this an answer fits a packet or two: compressing it saves nothing worth the CPU. */
export const COMPRESS_MIN_BYTES = 1024;

export type Encoding = "br" | "gzip";

/** The best encoding the Accept-Encoding header allows (q=0 refuses one), or undefined. */
export function pickEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const part of header.toLowerCase().split(",")) {
    const [name = "", ...params] = part.trim().split(";");
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const allowed = (e: string) => (q.get(e) ?? q.get("*") ?? 0) > 0;
  if (allowed("br")) return "br";
  if (allowed("gzip")) return "gzip";
  return undefined;
}

function compressible(type: unknown): boolean {
  return (
    typeof type === "string" &&
    (type.includes("json") || type.startsWith("text/plain") || type.startsWith("text/csv"))
  );
}

/** An onSend hook compressing JSON and text answers; the dashboard's static files are left alone. */
export function installCompression(app: FastifyInstance): void {
  app.addHook("onSend", async (req, reply, payload) => {
    if (typeof payload !== "string" && !Buffer.isBuffer(payload)) return payload;
    if (reply.hasHeader("content-encoding") || !compressible(reply.getHeader("content-type"))) return payload;
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    if (body.length < COMPRESS_MIN_BYTES) return payload;
    reply.header("vary", "accept-encoding");
    const encoding = pickEncoding(req.headers["accept-encoding"]);
    if (encoding === undefined) return payload;
    const out =
      encoding === "br"
        ? await brotli(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 5,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
              [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            },
          })
        : await gzipAsync(body, { level: 6 });
    reply.header("content-encoding", encoding);
    reply.removeHeader("content-length");
    return out;
  });
}
