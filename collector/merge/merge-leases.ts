// Pure: lease line parts from several collectors → the lines one collector holding every sample
// would give. Per lease the integer sums add up exactly (a GPU that moved between collectors has
// part of its minutes on each); the lease's own window and leased time are the same in every
// part and taken once; the GPU's place is the one the part with the most known time gives.
import type { LeaseLinePart } from "../reports/lease-lines.js";

export function mergeLeaseParts(parts: readonly (readonly LeaseLinePart[])[]): LeaseLinePart[] {
  const byLease = new Map<string, LeaseLinePart>();
  for (const part of parts) {
    for (const p of part) {
      const s = byLease.get(p.lease);
      if (!s) {
        byLease.set(p.lease, { ...p, labels: { ...p.labels } });
        continue;
      }
      if (p.coveredMs > s.coveredMs || s.host === "")
        Object.assign(s, { host: p.host, site: p.site, model: p.model });
      s.coveredMs += p.coveredMs;
      s.busyMs += p.busyMs;
      s.idleMs += p.idleMs;
      s.idleHeldMs += p.idleHeldMs;
      s.unknownReportedMs += p.unknownReportedMs;
      s.downMs += p.downMs;
      s.energyCwms += p.energyCwms;
      s.energyIdleCwms += p.energyIdleCwms;
      s.utilSum += p.utilSum;
      s.utilCount += p.utilCount;
      s.flags += p.flags;
    }
  }
  return [...byLease.values()].sort((a, b) => (a.lease < b.lease ? -1 : a.lease > b.lease ? 1 : 0));
}
