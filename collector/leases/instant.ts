// A lease boundary: RFC 3339 text, epoch milliseconds (number or digits), or "now".
import { badParam } from "../request/errors.js";
import { parseTime } from "../request/time.js";

export function parseInstant(field: string, value: unknown, nowMs: number): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw badParam(field, `${value} is not epoch milliseconds`);
  }
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime();
  if (typeof value !== "string" || value.length > 40) throw badParam(field, "must be an RFC 3339 time");
  return parseTime(field, value.trim(), nowMs, false);
}
