// A point in time as a request may spell it. A leaf module (see errors.ts).
import { parseDuration } from "../../shared/duration.js";
import { badParam } from "./errors.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A point in time: epoch ms, RFC 3339, or (`relative`) a duration before now such as "24h". */
export function parseTime(name: string, text: string, nowMs: number, relative: boolean): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (RFC3339.test(text) && inCalendar(text)) {
    const ms = Date.parse(text.replace(" ", "T"));
    if (Number.isFinite(ms)) return ms;
  }
  if (relative) {
    const d = parseDuration(text);
    if (d !== undefined && d > 0) return nowMs - d;
  }
  if (text === "now") return nowMs;
  throw badParam(
    name,
    `${JSON.stringify(text)} is not a time: use RFC 3339 (2024-05-01T12:00:00Z), epoch milliseconds${relative ? ", or a duration before now (24h)" : ""}`,
  );
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Month, day and hour exist: Date.parse rolls 2026-02-30 over to 2 March and 24:00 to the next
 * day, so a typo in a lease's start would silently become another time.
 */
function inCalendar(text: string): boolean {
  const [y = 0, mo = 0, d = 0, h = 0] = (text.match(/\d+/g) ?? []).slice(0, 4).map(Number);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && leap ? 29 : (DAYS[mo - 1] ?? 0);
  return d >= 1 && d <= days && h <= 23;
}
