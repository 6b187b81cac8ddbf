// Parsing and bounding of query parameters beyond what JSON schema can say: times (RFC 3339,
// epoch ms, or a duration before now for `from`), steps, labels, lists. Every failure is an
// ApiError naming the parameter, which the server turns into a 400 body.
import { parseDuration } from "../../shared/duration.js";
import { METRIC_BY_KEY, type MetricKey } from "../../shared/metrics.js";
import type { ReportGroupBy, TimeRange } from "../contract/api-contract.js";
import { FLAG_KINDS, type FlagKind } from "../flags/types.js";
import { badParam } from "../request/errors.js";
import { parseTime } from "../request/time.js";

export const LIMITS = {
  maxRangeMs: 400 * 86_400_000,
  maxSeriesPoints: 11_000,
  maxFlagRows: 10_000,
  defaultFlagRows: 500,
  /** Paging past a million flags is a query to narrow, not a page to turn. */
  maxFlagOffset: 1_000_000,
  maxGpuRows: 100_000,
  minStepMs: 1000,
  /** A step longer than the longest range gives nothing more than one point. */
  maxStepMs: 400 * 86_400_000,
} as const;

/**
 * The `limit` of a read of every open flag: a figure counted from them (a summary's counts, the
 * flags on a GPU's view) would be silently low from a list cut at maxFlagRows. Open flags are at
 * most one per kind, GPU and host, so they stay in proportion to the fleet, and the store reads
 * them all for a page anyway (StoreBackend.flagPage).
 */
export const EVERY_OPEN_FLAG = Number.MAX_SAFE_INTEGER;

/** Names that reach an object's prototype when used as a key: never a label key. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

function checkLabelKey(parameter: string, key: string): void {
  if (PROTOTYPE_KEYS.has(key))
    throw badParam(parameter, `${JSON.stringify(key)} cannot be a label key (it names the object prototype)`);
}

/** [from, to) with defaults, from < to, and at most maxRangeMs long. */
export function parseRange(
  query: { from?: string; to?: string },
  nowMs: number,
  defaultSpanMs: number,
): TimeRange {
  const toMs = query.to !== undefined ? parseTime("to", query.to, nowMs, true) : nowMs;
  const fromMs = query.from !== undefined ? parseTime("from", query.from, nowMs, true) : toMs - defaultSpanMs;
  checkRange(fromMs, toMs);
  return { fromMs, toMs };
}

/** from < to, and at most LIMITS.maxRangeMs long. */
export function checkRange(fromMs: number, toMs: number): void {
  if (!(fromMs < toMs)) throw badParam("from", "must be before `to`");
  if (toMs - fromMs > LIMITS.maxRangeMs)
    throw badParam(
      "from",
      `the range may span at most 400 days (asked ${Math.ceil((toMs - fromMs) / 86_400_000)} days)`,
    );
}

export function parseStep(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !(ms >= LIMITS.minStepMs))
    throw badParam(
      "step",
      `${JSON.stringify(text)} is not a step of at least 1s (e.g. 10s, 1m, 1h, or seconds)`,
    );
  if (!(ms <= LIMITS.maxStepMs))
    throw badParam("step", `${JSON.stringify(text)} is longer than the longest range: at most 400d`);
  return ms;
}

/** A step giving about `points` points over the range, rounded up to a tier-friendly size. */
export function autoStep(range: TimeRange, points = 360): number {
  const nice = [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
  const want = (range.toMs - range.fromMs) / points;
  return nice.find((s) => s >= want) ?? 86_400_000 * Math.ceil(want / 86_400_000);
}

export function parseMetrics(text: string): MetricKey[] {
  const keys = text.split(",").filter((k) => k !== "");
  if (keys.length === 0) throw badParam("metrics", "names no metric");
  for (const k of keys)
    if (!METRIC_BY_KEY.has(k as MetricKey)) throw badParam("metrics", `unknown metric ${JSON.stringify(k)}`);
  return [...new Set(keys)] as MetricKey[];
}

export function parseKinds(name: string, text: string): FlagKind[] {
  const kinds = text.split(",").filter((k) => k !== "");
  for (const k of kinds)
    if (!(FLAG_KINDS as readonly string[]).includes(k))
      throw badParam(name, `unknown flag kind ${JSON.stringify(k)} (one of ${FLAG_KINDS.join(", ")})`);
  return kinds as FlagKind[];
}

/** "key:value" (the value may hold colons). */
export function parseLabel(text: string): [string, string] {
  const colon = text.indexOf(":");
  if (colon <= 0) throw badParam("label", `${JSON.stringify(text)} is not key:value`);
  const key = text.slice(0, colon);
  checkLabelKey("label", key);
  return [key, text.slice(colon + 1)];
}

export function parseGroupBy(text: string): ReportGroupBy {
  if (text === "site" || text === "host" || text === "model" || text === "gpu") return text;
  if (text.startsWith("label:") && text.length > 6) {
    checkLabelKey("by", text.slice(6));
    return { label: text.slice(6) };
  }
  throw badParam("by", `${JSON.stringify(text)} is not one of site, host, model, gpu, label:KEY`);
}
