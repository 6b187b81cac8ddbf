// The one place that turns an nvidia-smi value into a number or an absence with a reason
// (in the manner of Telegraf's common/setters.go). Absent is never 0: every spelling of
// "no value" maps to a reason, and units are stripped so the same code reads output with or
// without `nounits`.
import type { MetricDef, ValueKind } from "../../../shared/metrics.js";
import { AbsentReason, type AbsentReasonValue } from "../../../shared/proto.js";

export type ParsedValue = { ok: true; value: number } | { ok: false; reason: AbsentReasonValue };

const UNSUPPORTED = AbsentReason.ABSENT_REASON_UNSUPPORTED;
const ERROR = AbsentReason.ABSENT_REASON_ERROR;
const UNPARSEABLE = AbsentReason.ABSENT_REASON_UNPARSEABLE;
const OUT_OF_RANGE = AbsentReason.ABSENT_REASON_OUT_OF_RANGE;

/**
 * Spellings of "no value", keyed by the text without brackets, lower-cased. nvidia-smi prints most
 * in brackets (`[N/A]`), a few bare (`N/A` for temperature.memory on consumer boards, `ERR!` in tables).
 */
const NO_VALUE: ReadonlyMap<string, AbsentReasonValue> = new Map([
  ["n/a", UNSUPPORTED],
  ["na", UNSUPPORTED],
  ["not supported", UNSUPPORTED],
  ["not available", UNSUPPORTED],
  ["requested functionality has been deprecated", UNSUPPORTED],
  ["unknown error", ERROR],
  ["unknown", ERROR],
  ["err!", ERROR],
  ["error", ERROR],
  ["insufficient permissions", ERROR],
  ["no permission", ERROR],
  ["gpu is lost", ERROR],
  ["gpu requires reset", ERROR],
]);

const BOOL_WORDS: ReadonlyMap<string, number> = new Map([
  ["enabled", 1],
  ["disabled", 0],
  ["yes", 1],
  ["no", 0],
  ["active", 1],
  ["not active", 0],
  ["true", 1],
  ["false", 0],
  ["on", 1],
  ["off", 0],
]);

// A decimal number, optionally followed by one of the units nvidia-smi prints
// (`69.85 W`, `0 us`, `81559 MiB`, `0 %`, `41 C`, `16x` for link widths in -q -x).
const NUMBER_WITH_UNIT =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\s*(?:%|W|mW|MiB|KiB|GiB|B|MHz|GHz|us|ms|s|C|°C|V|x))?$/;
/** A number as nvidia-smi prints most fields with `nounits`; read with Number(), no match array. */
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const HEX = /^0[xX]([0-9a-fA-F]{1,16})$/;
const PSTATE = /^P(\d{1,2})$/;

/** Classifies a "no value" spelling; undefined when the text is not one. */
export function noValueReason(text: string): AbsentReasonValue | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return NO_VALUE.get(bare.trim().toLowerCase());
}

/** Parses one raw field as `kind`, then checks the range. Never throws. */
export function parseValue(raw: string, kind: ValueKind, min: number, max: number): ParsedValue {
  const text = raw.trim();
  if (text === "") return { ok: false, reason: UNPARSEABLE };
  // A value first (the common case, once per field and GPU every interval): no spelling of "no
  // value" reads as a number, a boolean word, hex or a P-state, so the order changes no answer.
  const value = parseKind(text, kind);
  if (value === undefined) return { ok: false, reason: noValueReason(text) ?? UNPARSEABLE };
  if (value < min || value > max) return { ok: false, reason: OUT_OF_RANGE };
  return { ok: true, value };
}

/** parseValue with the metric's own kind and range from shared/metrics.ts. */
export function parseMetricValue(raw: string, def: MetricDef): ParsedValue {
  return parseValue(raw, def.kind, def.min, def.max);
}

/**
 * The value parseMetricValue would give, or undefined where it gives a reason (ask it for the
 * reason then). The per-frame path: every field of every GPU every interval, so a plain number
 * is read without a match array or a result object (bench agent.cpu_pct).
 */
export function metricValue(raw: string, def: MetricDef): number | undefined {
  const { kind } = def;
  let value: number | undefined;
  if ((kind === "float" || kind === "int") && PLAIN_NUMBER.test(raw)) {
    value = Number(raw);
    if (kind === "int") value = Math.round(value);
  } else {
    const text = raw.trim();
    value = text === "" ? undefined : parseKind(text, kind);
  }
  return value !== undefined && Number.isFinite(value) && value >= def.min && value <= def.max
    ? value
    : undefined;
}

function parseKind(text: string, kind: ValueKind): number | undefined {
  switch (kind) {
    case "int": {
      const n = parseNumber(text);
      // nvidia-smi prints counters as integers; a fraction here is rounded, not refused.
      return n === undefined ? undefined : Math.round(n);
    }
    case "float":
      return parseNumber(text);
    case "bool":
      return BOOL_WORDS.get(text.toLowerCase());
    case "hex": {
      const m = HEX.exec(text);
      if (!m) return undefined;
      const big = BigInt(`0x${m[1]}`);
      // Beyond 2^53 a JS number would silently lose bits; report it as out of range instead.
      return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(big);
    }
    case "pstate": {
      const m = PSTATE.exec(text);
      return m ? Number(m[1]) : undefined;
    }
  }
}

function parseNumber(text: string): number | undefined {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : undefined;
}
