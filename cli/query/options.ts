// `gputel query`'s own spellings, turned into what the API takes: ranges by name
// (--since yesterday | today | last-month, or a calendar date), labels as the agent writes them
// (customer=acme), and --sort FIELD[:asc|:desc]. Calendar words use this machine's time zone
// (TZ): "yesterday" is the operator's yesterday.
import { parseDuration } from "../../shared/duration.js";

export class OptionError extends Error {}

export interface Range {
  from: string;
  to: string | undefined;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function startOfDay(ms: number): Date {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** A calendar date (2026-05-01) is local midnight; anything else goes to the API as written. */
function instant(name: string, text: string): string {
  const m = DATE.exec(text);
  if (!m) return text;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (d.getMonth() !== Number(m[2]) - 1 || d.getDate() !== Number(m[3]))
    throw new OptionError(`--${name} ${JSON.stringify(text)} is not a date`);
  return String(d.getTime());
}

/**
 * --since and --until as the API's from and to. A named day or month also ends the range (at
 * the end of that day or month) unless --until is given.
 */
export function resolveRange(since: string | undefined, until: string | undefined, nowMs: number): Range {
  const to = until === undefined ? undefined : (named(until, nowMs)?.from ?? instant("until", until));
  if (since === undefined) return { from: "24h", to };
  const n = named(since, nowMs);
  if (n) return { from: n.from, to: to ?? n.to };
  return { from: instant("since", since), to };
}

/**
 * --since and --until read as resolveRange reads them, but with no start of its own when --since
 * is not given: the command (or the API) keeps its default range then.
 */
export function resolveGivenRange(
  since: string | undefined,
  until: string | undefined,
  nowMs: number,
): { from: string | undefined; to: string | undefined } {
  const range = resolveRange(since, until, nowMs);
  return { from: since === undefined ? undefined : before(range.from, nowMs), to: before(range.to, nowMs) };
}

/** A duration (24h) as the epoch ms that long before now: not every route reads durations. */
function before(text: string | undefined, nowMs: number): string | undefined {
  const ms = text === undefined ? undefined : parseDuration(text);
  return ms !== undefined && ms > 0 ? String(nowMs - ms) : text;
}

function named(text: string, nowMs: number): { from: string; to: string | undefined } | undefined {
  const today = startOfDay(nowMs);
  switch (text) {
    case "today":
      return { from: String(today.getTime()), to: undefined };
    case "yesterday": {
      const y = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
      return { from: String(y.getTime()), to: String(today.getTime()) };
    }
    case "this-month":
      return { from: String(new Date(today.getFullYear(), today.getMonth(), 1).getTime()), to: undefined };
    case "last-month":
      return {
        from: String(new Date(today.getFullYear(), today.getMonth() - 1, 1).getTime()),
        to: String(new Date(today.getFullYear(), today.getMonth(), 1).getTime()),
      };
    default:
      return undefined;
  }
}

/** "customer=acme" (the agent's --label spelling) or "customer:acme" (the API's) → "customer:acme". */
export function apiLabel(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const eq = text.indexOf("=");
  const colon = text.indexOf(":");
  if (eq > 0 && (colon < 0 || eq < colon)) return `${text.slice(0, eq)}:${text.slice(eq + 1)}`;
  if (colon > 0) return text;
  throw new OptionError(`--label ${JSON.stringify(text)} is not KEY=VALUE`);
}

/**
 * --limit as the API's schema takes it (a whole number from 1 to `max`), for a list the CLI cuts
 * itself (several collectors' merged list); undefined when not given.
 */
export function parseLimit(text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= max))
    throw new OptionError(`--limit ${JSON.stringify(text)}: a whole number from 1 to ${max}`);
  return n;
}

export interface SortKey {
  field: string;
  descending: boolean;
}

export function parseSort(text: string | undefined): SortKey | undefined {
  if (text === undefined) return undefined;
  const m = /^([A-Za-z][\w.-]*)(?::(asc|desc))?$/.exec(text);
  if (!m) throw new OptionError(`--sort ${JSON.stringify(text)} is not FIELD, FIELD:asc or FIELD:desc`);
  return { field: (m[1] as string).toLowerCase(), descending: m[2] === "desc" };
}

/** Sorts by the value `pick` gives for the field; absent values last either way. */
export function sortBy<T>(
  rows: readonly T[],
  key: SortKey,
  pick: (row: T, field: string) => string | number | null | undefined,
  fields: readonly string[],
): T[] {
  if (!fields.includes(key.field))
    throw new OptionError(`--sort ${key.field}: sort by one of ${fields.join(", ")}`);
  const sign = key.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = pick(a, key.field);
    const y = pick(b, key.field);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" && typeof y === "number") return sign * (x - y);
    return sign * String(x).localeCompare(String(y), undefined, { numeric: true });
  });
}
