// Where a page of kernel-log events ends, in words every collector reads alike. Kernel-log events
// reach every collector, each under its own row ids, so a page ends at an event's key (time, host,
// kernel boot, sequence: what each store keeps an event unique by), and every list of events is
// in one order by that key (the store's EVENT_ORDER): a page then never repeats nor skips an
// event, merged from several collectors or not, however many share one millisecond.
import type { EventKey, EventPosition } from "../store/event-store.js";

/**
 * The `before` cursor: `TIME:HOST:BOOT:SEQ` (host and kernel boot id hold no `:`: HOST_ID,
 * validate-event.ts), or `TIME:ID` as a collector before 2026-12-08 gave it (its own row id).
 */
export const EVENT_CURSOR =
  "^[0-9]{1,15}:([0-9]{1,15}|[A-Za-z0-9][A-Za-z0-9._-]{0,127}:[A-Za-z0-9-]{1,64}:[0-9]{1,16})$";

/** Newest first; ties of one millisecond by host, kernel boot (by code unit: ASCII, as SQLite's BINARY), newer sequence first. */
export function compareEvents(a: EventKey, b: EventKey): number {
  return (
    b.timeMs - a.timeMs ||
    textOrder(a.host, b.host) ||
    textOrder(a.kernelBootId, b.kernelBootId) ||
    b.kernelSeq - a.kernelSeq
  );
}

function textOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The cursor of the page that ends at `e` (the next page: the events after it). */
export function eventCursor(e: EventKey): string {
  return `${e.timeMs}:${e.host}:${e.kernelBootId}:${e.kernelSeq}`;
}

/** A cursor that matched EVENT_CURSOR as a position; an old `TIME:ID` one keeps its row id. */
export function parseEventCursor(cursor: string): EventPosition {
  const [time = "", ...rest] = cursor.split(":");
  const timeMs = Number(time);
  if (rest.length === 1) return { timeMs, id: Number(rest[0]) };
  const [host = "", kernelBootId = "", seq = ""] = rest;
  return { timeMs, host, kernelBootId, kernelSeq: Number(seq) };
}

/** Whether a position is an old one, naming one collector's row: it means nothing to another. */
export function isRowPosition(p: EventPosition): p is { timeMs: number; id: number } {
  return "id" in p;
}
