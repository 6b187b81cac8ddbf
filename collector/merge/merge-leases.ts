// Pure: lease line parts from several collectors → the lines one collector holding every sample
// would give. Per lease the integer sums add up exactly (a GPU that moved between collectors has
// part of its minutes on each); the lease's own window and leased time are the same in every
// part and taken once; the GPU's place is the one the part with the most known time gives.
// Each collector must give its part of every lease exactly once (collector/api/fanout-leases.ts
// asks a collector for the leases it does not hold itself).
import type { LeaseLinePart } from "../reports/lease-lines.js";

/** The integers that add up across collectors. */
export const SUMMED_INTEGERS = [
  "coveredMs",
  "busyMs",
  "idleMs",
  "idleHeldMs",
  "unknownReportedMs",
  "energyCwms",
  "energyIdleCwms",
  "utilSum",
  "utilCount",
  "flags",
] as const;
/** The integers of the lease's window: the same in every part. */
const WINDOW = ["fromMs", "toMs", "leasedMs"] as const;
/** Taken as the largest of the parts (see the merge loop). */
const LARGEST = ["downMs"] as const;

type IntegerKeys<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];
/** Every integer of a part is summed or a window's: a new one fails to compile until placed above. */
type Unplaced = Exclude<
  IntegerKeys<LeaseLinePart>,
  (typeof SUMMED_INTEGERS)[number] | (typeof WINDOW)[number] | (typeof LARGEST)[number]
>;
export const EVERY_INTEGER_PLACED: [Unplaced] extends [never] ? true : never = true;

export function mergeLeaseParts(parts: readonly (readonly LeaseLinePart[])[]): LeaseLinePart[] {
  const byLease = new Map<string, { sum: LeaseLinePart; placedBy: number }>();
  for (const part of parts) {
    for (const p of part) {
      const seen = byLease.get(p.lease);
      if (!seen) {
        byLease.set(p.lease, { sum: { ...p, labels: { ...p.labels } }, placedBy: p.coveredMs });
        continue;
      }
      const s = seen.sum;
      // The place from the part with the most known time (a collector that never saw the GPU has none).
      if (p.coveredMs > seen.placedBy || (s.host === "" && p.host !== "")) {
        Object.assign(s, { host: p.host, site: p.site, model: p.model });
        seen.placedBy = p.coveredMs;
      }
      for (const k of SUMMED_INTEGERS) s[k] += p[k];
      // Down time comes from each collector's own flags: statuses (offline) reach every collector,
      // so the same episode may be in several parts. The longest part's figure is taken, exact when
      // one collector holds all of a GPU's down episodes or all hold the same (docs/scaling.md).
      s.downMs = Math.max(s.downMs, p.downMs);
    }
  }
  return [...byLease.values()]
    .map((v) => v.sum)
    .sort((a, b) => (a.lease < b.lease ? -1 : a.lease > b.lease ? 1 : 0));
}
