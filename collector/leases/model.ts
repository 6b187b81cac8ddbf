// A lease: one device (a GPU, or a MIG instance of one) rented to one tenant for [start, end),
// end open until ended. Pure types and field validation; the rules for overlap, edits, ends and
// deletes are in rules.ts. Money and percentages are integers underneath (micro-units of the
// currency, thousandths of a percent), so sums in statements are exact.
import { badParam } from "../request/errors.js";
import { isCurrency } from "./currencies.js";
import { LeaseError } from "./errors.js";
import { parseInstant } from "./instant.js";

export type LeaseSource = "api" | "import" | "label";
export type LeaseState = "scheduled" | "active" | "ended";

export interface Lease {
  id: string;
  /** The leased device: a GPU UUID, or a MIG device UUID (then `gpu` is its parent GPU). */
  device: string;
  /** The physical GPU's UUID; equal to `device` for a whole-GPU lease. */
  gpu: string;
  tenant: string;
  startMs: number;
  /** Exclusive; null while the lease is open. */
  endMs: number | null;
  contract: string | null;
  /** Price per GPU-hour in millionths of the currency unit. */
  priceMicros: number | null;
  /** ISO 4217 code; set exactly when the price is. */
  currency: string | null;
  /** Committed availability in thousandths of a percent (99.5 % → 99500). */
  availabilityMilli: number | null;
  labels: Record<string, string>;
  source: LeaseSource;
}

/** What a report reads of a lease: every field but where it came from (peers exchange these). */
export type LeaseTerms = Omit<Lease, "source">;

/** The fields a caller gives (API body, import line); ids and devices are resolved later. */
export interface LeaseFields {
  id?: string;
  device?: string;
  tenant?: string;
  startMs?: number;
  endMs?: number | null;
  contract?: string | null;
  priceMicros?: number | null;
  currency?: string | null;
  availabilityMilli?: number | null;
  labels?: Record<string, string>;
}

/** The names callers use for the fields (API, CSV header, YAML keys): one name per thing. */
export const FIELD_NAMES = [
  "id",
  "device",
  "tenant",
  "start",
  "end",
  "contract",
  "pricePerGpuHour",
  "currency",
  "committedAvailabilityPct",
  "labels",
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEVICE_PATTERN = /^(GPU|MIG)-[A-Za-z0-9._:/-]{1,195}$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const MAX_LABELS = 32;

export function leaseState(lease: Pick<Lease, "startMs" | "endMs">, nowMs: number): LeaseState {
  if (nowMs < lease.startMs) return "scheduled";
  return lease.endMs !== null && lease.endMs <= nowMs ? "ended" : "active";
}

/** A text field given as another JSON type: `42 is not a tenant name (letters, digits…)` misleads. */
export function notText(field: string, value: unknown) {
  return badParam(field, `must be text (a JSON string), not ${JSON.stringify(value)}`);
}

function str(field: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== "string") throw notText(field, value);
  if (!pattern.test(value)) throw badParam(field, `${JSON.stringify(value)} is not ${what}`);
  return value;
}

/** A decimal with at most `digits` decimals, as an integer of 10^-digits units. */
function scaled(field: string, value: unknown, digits: number, max: number): number {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,12}(\.\d+)?$/.test(text.trim())) {
    const negative =
      (typeof value === "number" && value < 0) || (typeof text === "string" && /^\s*-/.test(text));
    throw badParam(
      field,
      negative ? `must not be negative (got ${text})` : `${JSON.stringify(value)} is not a number`,
    );
  }
  const [whole = "0", frac = ""] = text.trim().split(".");
  if (frac.replace(/0+$/, "").length > digits)
    throw badParam(field, `${text} has more than ${digits} decimals`);
  const units = Number(whole) * 10 ** digits + Number(frac.padEnd(digits, "0").slice(0, digits) || "0");
  if (!(units <= max * 10 ** digits)) throw badParam(field, `${text} is more than ${max}`);
  return units;
}

function labelsOf(field: string, value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw badParam(field, "must be an object of string values");
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) throw badParam(field, `at most ${MAX_LABELS} labels`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k) || PROTOTYPE_KEYS.has(k))
      throw badParam(`${field}.${k}`, `${JSON.stringify(k)} is not a label key`);
    if (typeof v !== "string" || v.length > 200)
      throw badParam(`${field}.${k}`, "must be a string of at most 200 characters");
    out[k] = v;
  }
  return out;
}

/**
 * Reads the fields present in `raw` (an API body or an import record), each checked and
 * converted; an unknown field, or a bad value, throws naming it. Absent fields stay absent.
 */
export function readLeaseFields(raw: Record<string, unknown>, nowMs: number): LeaseFields {
  for (const key of Object.keys(raw))
    if (!(FIELD_NAMES as readonly string[]).includes(key))
      throw badParam(key, `unknown field ${JSON.stringify(key)} (fields: ${FIELD_NAMES.join(", ")})`);
  const f: LeaseFields = {};
  const has = (k: FieldName) => raw[k] !== undefined;
  const orNull = <T>(k: FieldName, read: (v: unknown) => T): T | null =>
    raw[k] === null || raw[k] === "" ? null : read(raw[k]);
  if (has("id")) f.id = str("id", raw.id, ID_PATTERN, "a lease id (letters, digits, . _ : -; at most 64)");
  if (has("device"))
    f.device = str("device", raw.device, DEVICE_PATTERN, "a GPU or MIG device UUID (GPU-…, MIG-…)");
  if (has("tenant"))
    f.tenant = str(
      "tenant",
      raw.tenant,
      TENANT_PATTERN,
      "a tenant name (letters, digits, . _ -; at most 64)",
    );
  if (has("start")) f.startMs = parseInstant("start", raw.start, nowMs);
  if (has("end")) f.endMs = orNull("end", (v) => parseInstant("end", v, nowMs));
  if (has("contract"))
    f.contract = orNull("contract", (v) => {
      if (typeof v !== "string" || v.length > 200)
        throw badParam("contract", "must be a string of at most 200 characters");
      return v;
    });
  if (has("pricePerGpuHour"))
    f.priceMicros = orNull("pricePerGpuHour", (v) => scaled("pricePerGpuHour", v, 6, 1_000_000));
  if (has("currency"))
    f.currency = orNull("currency", (v) => {
      const code = typeof v === "string" ? v.trim().toUpperCase() : "";
      if (!isCurrency(code))
        throw badParam("currency", `${JSON.stringify(v)} is not an ISO 4217 currency code`);
      return code;
    });
  if (has("committedAvailabilityPct"))
    f.availabilityMilli = orNull("committedAvailabilityPct", (v) =>
      scaled("committedAvailabilityPct", v, 3, 100),
    );
  if (has("labels")) f.labels = labelsOf("labels", raw.labels);
  return f;
}

/** The fields of a new lease, complete and consistent (start before end, price with currency). */
export function checkNewLease(f: LeaseFields): void {
  for (const k of ["device", "tenant"] as const) if (f[k] === undefined) throw badParam(k, "is required");
  if (f.startMs === undefined) throw badParam("start", "is required");
  checkConsistent(f.startMs, f.endMs ?? null, f.priceMicros ?? null, f.currency ?? null);
}

export function checkConsistent(
  startMs: number,
  endMs: number | null,
  priceMicros: number | null,
  currency: string | null,
): void {
  if (endMs !== null && !(endMs > startMs)) throw badParam("end", "must be after start");
  if (priceMicros !== null && currency === null)
    throw badParam("currency", "is required with pricePerGpuHour");
  if (priceMicros === null && currency !== null)
    throw badParam("pricePerGpuHour", "is required with currency");
}

/** The lease as the API, the CLI's --json and the history table show it. */
export function leaseView(lease: Lease, nowMs: number) {
  return {
    id: lease.id,
    device: lease.device,
    gpu: lease.gpu,
    tenant: lease.tenant,
    start: new Date(lease.startMs).toISOString(),
    end: lease.endMs === null ? null : new Date(lease.endMs).toISOString(),
    startMs: lease.startMs,
    endMs: lease.endMs,
    state: leaseState(lease, nowMs),
    contract: lease.contract,
    pricePerGpuHour: lease.priceMicros === null ? null : lease.priceMicros / 1e6,
    currency: lease.currency,
    committedAvailabilityPct: lease.availabilityMilli === null ? null : lease.availabilityMilli / 1000,
    labels: lease.labels,
    source: lease.source,
  };
}
export type LeaseView = ReturnType<typeof leaseView>;

export { LeaseError };
