// Pure: fleet health report parts from several collectors (collector/fanout/health-part.ts) → the
// report one collector holding every event, episode and lease gives, for the fan-out (http.peers)
// and `gputel query report health --url a,b` alike. Kernel-log events reach every collector of a
// share group, so an event counts once by the key each store keeps it unique by (host, kernel
// boot, sequence), never as the sum of the collectors' counts; a GPU's lost, reset-required and
// error episodes join as every merged flag list joins them (mergeFlagLists: round robin copies
// become one, a reset-required ends where its first copy ended); leases held by several
// collectors count once by id. The report's own builder then runs on the result, so the down
// time, tenants' shares and RMA candidates come from the merged data, not from adding reports.
import type { HealthPart, HealthPartGroup, HealthPartLease } from "../contract/api-contract.js";
import { healthReport } from "../reports/health-report.js";
import type { HealthReport } from "../reports/health-types.js";
import { type EventGroup, emptyEventGroup, eventGroupKey } from "../store/event-store.js";
import { mergeFlagLists } from "./merge-lists.js";

/**
 * The health report over several collectors' parts of one range (the first part's range: the
 * collector asked first). `nowMs` is the asking collector's clock; an open episode runs to it.
 * Where a part was cut at its bound the answer's `cut` names what may be low (HealthReport).
 */
export function mergeHealthParts(parts: readonly HealthPart[], nowMs: number): HealthReport {
  const first = parts[0];
  if (!first) throw new Error("no health part to merge");
  const models = new Map<string, string>();
  for (const p of parts)
    for (const [uuid, model] of Object.entries(p.models)) if (!models.has(uuid)) models.set(uuid, model);
  const leases = leasesByGpu(parts);
  const report = healthReport({
    fromMs: first.fromMs,
    toMs: first.toMs,
    nowMs,
    groups: mergeEventGroups(parts.map((p) => p.groups)),
    flags: mergeFlagLists(parts.map((p) => p.flags)),
    modelOf: (uuid) => models.get(uuid) ?? "",
    leasesOn: (uuid) => leases.get(uuid) ?? [],
  });
  const cut = [
    ...(parts.some((p) => p.groups.some((g) => g.keys === null)) ? (["xid-counts"] as const) : []),
    ...(parts.some((p) => p.leasesCut) ? (["leases"] as const) : []),
  ];
  return cut.length > 0 ? { ...report, cut } : report;
}

/**
 * Every part's groups as one list: each event counted once, in the group of the first part that
 * holds it. A group a part carries without keys (cut) counts at least as many as that part's
 * count: the largest one collector holds, exact where one holds every event of the group (every
 * member of a share group does; with hosts split between collectors, the one its host's go to).
 * Ordered as the store orders its groups (host, GPU, code, action, fault).
 */
export function mergeEventGroups(lists: readonly (readonly HealthPartGroup[])[]): EventGroup[] {
  const byKey = new Map<string, EventGroup>();
  const counted = new Set<string>();
  const atLeast = new Map<string, number>();
  for (const list of lists)
    for (const g of list) {
      const key = eventGroupKey(g);
      const m = byKey.get(key) ?? emptyEventGroup(g, g.firstMs, g.lastMs);
      m.firstMs = Math.min(m.firstMs, g.firstMs);
      m.lastMs = Math.max(m.lastMs, g.lastMs);
      byKey.set(key, m);
      if (g.keys === null) {
        atLeast.set(key, Math.max(atLeast.get(key) ?? 0, g.count));
        continue;
      }
      for (const { boot, seqs } of g.keys)
        for (const seq of seqs) {
          const event = `${g.host}\u0000${boot}\u0000${seq}`;
          if (counted.has(event)) continue;
          counted.add(event);
          m.count += 1;
        }
    }
  for (const [key, n] of atLeast) {
    const m = byKey.get(key);
    if (m) m.count = Math.max(m.count, n);
  }
  return [...byKey.values()].filter((g) => g.count > 0).sort(storeOrder);
}

/** SQLite's order of `ORDER BY host, gpu_uuid, code, action, application_level`: NULL first, bytes. */
function storeOrder(a: EventGroup, b: EventGroup): number {
  return (
    text(a.host, b.host) ||
    (a.gpuUuid === null
      ? b.gpuUuid === null
        ? 0
        : -1
      : b.gpuUuid === null
        ? 1
        : text(a.gpuUuid, b.gpuUuid)) ||
    a.code - b.code ||
    text(a.action, b.action) ||
    Number(a.applicationLevel) - Number(b.applicationLevel)
  );
}

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every part's leases once by id (the first part's copy), per GPU, oldest first as the store lists them. */
function leasesByGpu(parts: readonly HealthPart[]): Map<string, HealthPartLease[]> {
  const byId = new Map<string, HealthPartLease>();
  for (const p of parts) for (const l of p.leases) if (!byId.has(l.id)) byId.set(l.id, l);
  const out = new Map<string, HealthPartLease[]>();
  for (const l of [...byId.values()].sort((a, b) => a.startMs - b.startMs))
    out.set(l.gpu, [...(out.get(l.gpu) ?? []), l]);
  return out;
}
