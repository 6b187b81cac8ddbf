// /api/v1/leases: list and read need the viewer role, changes need admin (access.ts). Bodies are
// read field by field by the lease model, so a bad value answers 400 naming the field; a
// conflict 409 naming the lease in the way; an unknown lease or GPU 404. Each change is one
// transaction with its history row (collector/leases/service.ts): nothing is half-written.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseInstant } from "../leases/instant.js";
import { type Lease, leaseView } from "../leases/model.js";
import type { ImportRecord, LeaseService } from "../leases/service.js";
import { ApiError, badParam } from "../request/errors.js";
import { checkRange } from "./params.js";

/** 20,000 leases (the most per import) take about 4.3 MB of JSON; other bodies stay at 4 KiB. */
export const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;
const MAX_IMPORT_RECORDS = 20_000;
const MAX_LIST = 10_000;

const id = { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]*$" } as const;
const idParams = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id },
} as const;
const time = { type: "string", minLength: 1, maxLength: 40 } as const;
const body = { type: "object" } as const;

interface ListQuery {
  tenant?: string;
  device?: string;
  at?: string;
  from?: string;
  to?: string;
  limit?: number;
}

const listSchema = {
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      tenant: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" },
      device: { type: "string", minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9._:/-]+$" },
      at: time,
      from: time,
      to: time,
      limit: { type: "integer", minimum: 1, maximum: MAX_LIST },
    },
  },
} as const;

const ADMIN = { access: "admin" } as const;

function actor(req: FastifyRequest): string {
  return req.principal?.actor ?? "unknown";
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw badParam("body", "must be a JSON object");
  return value as Record<string, unknown>;
}

export function registerLeaseRoutes(app: FastifyInstance, leases: LeaseService | undefined): void {
  const service = (): LeaseService => {
    if (!leases) throw new ApiError(501, "not_implemented", undefined, "no lease store here");
    return leases;
  };
  const view = (l: Lease) => leaseView(l, service().now());

  app.get<{ Querystring: ListQuery }>("/api/v1/leases", { schema: listSchema }, async (req) => {
    const q = req.query;
    const now = service().now();
    let fromMs: number | undefined;
    let toMs: number | undefined;
    if (q.at !== undefined) {
      if (q.from !== undefined || q.to !== undefined) throw badParam("at", "give either at or from/to");
      fromMs = parseInstant("at", q.at, now);
      toMs = fromMs + 1;
    } else {
      if (q.from !== undefined) fromMs = parseInstant("from", q.from, now);
      if (q.to !== undefined) toMs = parseInstant("to", q.to, now);
      if (fromMs !== undefined && toMs !== undefined) checkRange(fromMs, toMs);
    }
    const limit = q.limit ?? 1000;
    const found = service().list({
      limit: limit + 1,
      ...(q.tenant !== undefined ? { tenant: q.tenant } : {}),
      ...(q.device !== undefined ? { device: q.device } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    });
    return { generatedMs: now, truncated: found.length > limit, leases: found.slice(0, limit).map(view) };
  });

  app.get<{ Params: { id: string } }>("/api/v1/leases/:id", { schema: { params: idParams } }, async (req) => {
    const lease = service().get(req.params.id);
    const history = service()
      .history(lease.id)
      .map((h) => ({
        atMs: h.atMs,
        at: new Date(h.atMs).toISOString(),
        actor: h.actor,
        action: h.action,
        before: h.before,
        after: h.after,
      }));
    return { ...view(lease), history };
  });

  app.post("/api/v1/leases", { schema: { body }, config: ADMIN }, async (req, reply) => {
    const lease = service().create(record(req.body), actor(req));
    reply.code(201);
    return view(lease);
  });

  app.post(
    "/api/v1/leases/import",
    { schema: { body }, config: ADMIN, bodyLimit: IMPORT_BODY_LIMIT },
    async (req) => {
      const records = record(req.body).records;
      if (!Array.isArray(records)) throw badParam("records", "must be an array of {line, fields}");
      if (records.length > MAX_IMPORT_RECORDS)
        throw badParam("records", `at most ${MAX_IMPORT_RECORDS} leases per import`);
      const parsed: ImportRecord[] = records.map((r, i) => {
        const o = record(r);
        const line = typeof o.line === "number" && Number.isSafeInteger(o.line) ? o.line : i + 1;
        return { line, fields: record(o.fields) };
      });
      return service().importAll(parsed, actor(req));
    },
  );

  app.patch<{ Params: { id: string } }>(
    "/api/v1/leases/:id",
    { schema: { params: idParams, body }, config: ADMIN },
    async (req) => view(service().edit(req.params.id, record(req.body), actor(req))),
  );

  app.post<{ Params: { id: string } }>(
    "/api/v1/leases/:id/end",
    { schema: { params: idParams }, config: ADMIN },
    async (req) => {
      const b = req.body === undefined || req.body === null ? {} : record(req.body);
      for (const key of Object.keys(b))
        if (key !== "at") throw badParam(key, `unknown field ${JSON.stringify(key)} (only at)`);
      return view(service().end(req.params.id, b.at, actor(req)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/api/v1/leases/:id",
    { schema: { params: idParams }, config: ADMIN },
    async (req) => {
      service().remove(req.params.id, actor(req));
      return { deleted: req.params.id };
    },
  );
}
