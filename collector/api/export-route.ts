// GET /api/v1/export?from&to&gpu&tier&format: the stored samples of a range, streamed
// (collector/export). Private like every data route (access.ts). Parameters are checked by
// schema, then parsed and bounded as elsewhere (params.ts: times, at most 400 days); an unknown
// GPU answers 404 and a tier this collector does not keep 400, before any byte is streamed.
// Answers from this collector only: exports are not merged across peers.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { errorMessage } from "../../shared/errors.js";
import { GPU_REF } from "../../shared/gpu-id.js";
import type { Logger } from "../../shared/logger.js";
import { EXPORT_FORMATS, type ExportFormat } from "../export/columns.js";
import { CONTENT_TYPES, type ExportGpu, exportChunks, FILE_EXTENSIONS } from "../export/export-stream.js";
import { reportFileName } from "../reports/report-csv.js";
import { ApiError, badParam } from "../request/errors.js";
import { parseTime } from "../request/time.js";
import type { QueryBackend } from "./backend.js";
import { checkRange } from "./params.js";
import { query, time } from "./schemas.js";

export const EXPORT_PATH = "/api/v1/export";
/** GPUs one request may name. */
export const MAX_EXPORT_GPUS = 1000;

const gpuList = {
  type: "string",
  minLength: 1,
  maxLength: 16_000,
  pattern: `^(${GPU_REF.source.slice(1, -1)})(,(${GPU_REF.source.slice(1, -1)}))*$`,
  description: "UUID or host:index; comma-separated or repeated",
} as const;

export const exportSchema = {
  querystring: {
    ...query({
      from: time,
      to: time,
      gpu: { anyOf: [gpuList, { type: "array", items: gpuList, minItems: 1, maxItems: MAX_EXPORT_GPUS }] },
      tier: { type: "string", minLength: 1, maxLength: 20, pattern: "^[a-z0-9]+$" },
      format: { type: "string", enum: [...EXPORT_FORMATS] },
    }),
    required: ["from", "format"],
  },
} as const;

export interface ExportQuery {
  from: string;
  to?: string;
  gpu?: string | string[];
  tier?: string;
  format: ExportFormat;
}

export function registerExportRoute(app: FastifyInstance, backend: QueryBackend, log: Logger): void {
  // An export may stream for minutes; a stopping collector cuts them rather than wait (the
  // client sees a cut connection, never a short answer that looks whole).
  const running = new Set<Readable>();
  app.addHook("preClose", (done) => {
    if (running.size > 0) log.warn({ exports: running.size }, "Exports cut: the collector is stopping");
    for (const stream of running) stream.destroy(new Error("the collector is stopping"));
    done();
  });
  app.get<{ Querystring: ExportQuery }>(EXPORT_PATH, { schema: exportSchema }, async (req, reply) => {
    const source = backend.exportSource?.();
    if (!source)
      throw new ApiError(501, "not_implemented", undefined, "this collector has no store to export");
    const q = req.query;
    const now = backend.now();
    const toMs = q.to !== undefined ? parseTime("to", q.to, now, true) : now;
    const fromMs = parseTime("from", q.from, now, true);
    checkRange(fromMs, toMs);
    const tiers = source.tiers();
    const tier = tiers.find((t) => t.name === (q.tier ?? "raw"));
    if (!tier)
      throw badParam(
        "tier",
        `${JSON.stringify(q.tier)} is not kept here: one of ${tiers.map((t) => t.name).join(", ")}`,
      );
    const gpus = selectGpus(backend, q.gpu);
    const started = performance.now();
    let bytes = 0;
    let ended = false;
    const detail = { fromMs, toMs, tier: tier.name, format: q.format, gpus: gpus.length };
    const chunks = async function* () {
      try {
        for await (const chunk of exportChunks(source, { fromMs, toMs, tier, format: q.format, gpus })) {
          bytes += Buffer.byteLength(chunk);
          yield chunk;
        }
      } catch (error) {
        // Headers went out with the 200: the stream's error cuts the connection, and the log says why.
        // (A client gone or a stop destroys the stream instead: logged where it closes.)
        ended = true;
        log.error({ ...detail, code: "GPUTEL_E_API", err: errorMessage(error), bytes }, "Export failed");
        throw error;
      }
      ended = true;
      log.info({ ...detail, bytes, ms: Math.round(performance.now() - started) }, "Export served");
    };
    reply
      .header("content-type", CONTENT_TYPES[q.format])
      .header(
        "content-disposition",
        `attachment; filename="${reportFileName({ kind: `export-${tier.name}`, fromMs, toMs }, FILE_EXTENSIONS[q.format])}"`,
      );
    const stream = Readable.from(chunks(), { objectMode: false });
    running.add(stream);
    stream.once("close", () => {
      running.delete(stream);
      if (!ended) log.info({ ...detail, bytes }, "Export cut short (client gone or collector stopping)");
    });
    return reply.send(stream);
  });
}

/** The GPUs asked for (UUID or host:index, each once), or every GPU the collector knows. */
function selectGpus(backend: QueryBackend, gpu: string | string[] | undefined): ExportGpu[] {
  const identity = (g: ExportGpu): ExportGpu => ({
    uuid: g.uuid,
    host: g.host,
    index: g.index,
    model: g.model,
    site: g.site,
    labels: g.labels,
  });
  if (gpu === undefined) return backend.gpus({}).map(identity);
  const refs = (Array.isArray(gpu) ? gpu : [gpu]).flatMap((g) => g.split(","));
  if (refs.length > MAX_EXPORT_GPUS)
    throw badParam("gpu", `names ${refs.length} GPUs; at most ${MAX_EXPORT_GPUS}`);
  const byUuid = new Map<string, ExportGpu>();
  for (const ref of refs) {
    const found = backend.gpu(ref);
    if (!found)
      throw new ApiError(
        404,
        "not_found",
        "gpu",
        `no GPU ${JSON.stringify(ref)} (give a UUID or host:index)`,
      );
    byUuid.set(found.uuid, identity(found));
  }
  return [...byUuid.values()];
}
