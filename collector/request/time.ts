// A point in time as a request may spell it. A leaf module (see errors.ts).
import { parseDuration } from "../../shared/duration.js";
import { badParam } from "./errors.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A point in time: epoch ms, RFC 3339, or (`relative`) a duration before now such as "24h". */
export function parseTime(name: string, text: string, nowMs: number, relative: boolean): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (RFC3339.test(text)) {
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
