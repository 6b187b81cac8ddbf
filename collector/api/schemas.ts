// JSON schemas of every route's parameters: nothing unknown passes (additionalProperties false,
// with Ajv's removeAdditional off in server.ts), strings are bounded, enums are closed.
import { GPU_REF } from "../../shared/gpu-id.js";
import { HOST_ID } from "../../shared/topics.js";
import { FLAG_KINDS } from "../flags/types.js";
import { LIMITS } from "./params.js";

const text = { type: "string", minLength: 1, maxLength: 200 } as const;
export const time = {
  type: "string",
  minLength: 1,
  maxLength: 40,
  description: "RFC 3339, epoch ms, or a duration before now (24h)",
} as const;
const hostName = { type: "string", pattern: HOST_ID.source } as const;
const label = {
  type: "string",
  minLength: 3,
  maxLength: 300,
  pattern: "^[^:]+:.*$",
  description: "key:value",
} as const;
const tenant = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
  description: "only this tenant's leased GPUs in its lease periods (a tenant token: always its own)",
} as const;
/** The `tenant=` of every scoped route (admin, viewer: that tenant's view; the fan-out's peers). */
export const TENANT_PARAM = tenant;
const kindList = { type: "string", minLength: 1, maxLength: 200, pattern: "^[a-z-]+(,[a-z-]+)*$" } as const;

/** `format=` of a route that answers CSV too (csv-wanted.ts: or asked by Accept: text/csv). */
export const FORMAT_PARAM = {
  type: "string",
  enum: ["json", "csv"],
  description: "csv: also asked by Accept: text/csv",
} as const;
const format = FORMAT_PARAM;

export function query(properties: Record<string, unknown>) {
  return { type: "object", additionalProperties: false, properties } as const;
}

export const gpuIdParams = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source } },
} as const;

export const schemas = {
  summary: { querystring: query({ from: time, to: time, tenant, format }) },
  reportPart: { querystring: query({ from: time, to: time }) },
  hosts: { querystring: query({}) },
  gpus: {
    querystring: query({
      host: hostName,
      site: text,
      model: text,
      label,
      state: { type: "string", enum: ["ok", "timeout", "lost", "error", "unspecified", "unknown"] },
      flag: { type: "string", enum: [...FLAG_KINDS] },
      limit: { type: "integer", minimum: 1, maximum: LIMITS.maxGpuRows },
      tenant,
    }),
  },
  gpu: { params: gpuIdParams, querystring: query({ tenant, format }) },
  series: {
    params: gpuIdParams,
    querystring: query({
      metrics: { type: "string", minLength: 1, maxLength: 1000, pattern: "^[a-z0-9_]+(,[a-z0-9_]+)*$" },
      from: time,
      to: time,
      step: { type: "string", minLength: 1, maxLength: 20 },
      tenant,
    }),
  },
  flags: {
    querystring: query({
      state: { type: "string", enum: ["open", "all"] },
      kind: kindList,
      host: hostName,
      site: text,
      label,
      model: text,
      q: { ...text, description: "text in the host, host:index, UUID, a label value or the model" },
      gpu: { type: "string", minLength: 1, maxLength: 200, pattern: GPU_REF.source },
      problems: { type: "boolean", description: "only warning and critical flags (not idle)" },
      from: time,
      to: time,
      limit: { type: "integer", minimum: 1, maximum: LIMITS.maxFlagRows },
      tenant,
      offset: { type: "integer", minimum: 0, maximum: LIMITS.maxFlagOffset },
    }),
  },
  report: {
    params: {
      type: "object",
      additionalProperties: false,
      required: ["kind"],
      properties: {
        kind: { type: "string", enum: ["utilization", "energy", "thermal", "capacity", "downtime"] },
      },
    },
    querystring: query({
      from: time,
      to: time,
      by: { type: "string", minLength: 1, maxLength: 140, pattern: "^(site|host|model|gpu|label:.+)$" },
      format,
      tenant,
    }),
  },
  metrics: { querystring: query({}) },
  cells: { querystring: query({ layout: { type: "boolean" }, tenant }) },
} as const;

export interface RangeQuery {
  from?: string;
  to?: string;
  /** Only where the route is scoped (summary, reports): this tenant's view. */
  tenant?: string;
  /** Only where the route answers CSV too (summary). */
  format?: "json" | "csv";
}
export interface GpusQuery {
  host?: string;
  site?: string;
  model?: string;
  label?: string;
  state?: string;
  flag?: (typeof FLAG_KINDS)[number];
  limit?: number;
  tenant?: string;
}
export interface SeriesQuery extends RangeQuery {
  metrics?: string;
  step?: string;
  tenant?: string;
}
export interface FlagsQuery extends RangeQuery {
  state?: "open" | "all";
  kind?: string;
  host?: string;
  site?: string;
  label?: string;
  model?: string;
  q?: string;
  gpu?: string;
  problems?: boolean;
  limit?: number;
  tenant?: string;
  offset?: number;
}
export interface CellsQuery {
  layout?: boolean;
  tenant?: string;
}
export interface ReportQuery extends RangeQuery {
  by?: string;
  format?: "json" | "csv";
}
