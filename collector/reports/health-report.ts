// The fleet health report and a GPU's downtime, from stored events and flag episodes (pure).
// Hardware downtime is the union of a GPU's lost and reset-required episodes within the range
// (down-time.ts, narrowed to those kinds): application-level Xids (the workload's fault) never
// open either, so they never count. Availability counts more as down (error, offline, stale).
import { isHardwareXid, xidEntry } from "../../shared/xid/xid.js";
import type { Flag } from "../flags/types.js";
import type { EventGroup } from "../store/event-store.js";
import { DownFlags, type GpuPlace, stretchMs } from "./down-time.js";
import type { DowntimeSpan, HealthReport, RmaCandidate, XidCount } from "./health-types.js";
import { type DowntimeLease, type GpuDowntime, tenantDowntime } from "./tenant-downtime.js";

/** Flag kinds during which a GPU is down for a hardware reason. */
export const DOWNTIME_KINDS = ["lost", "reset-required"] as const;
/** Hardware Xids on one GPU within the range from which it is an RMA candidate. */
export const RMA_REPEATED_XIDS = 3;
const XID_OFF_THE_BUS = 79;
const XID_REMAP_FAILURE = 64;

/**
 * Merges one GPU's downtime episodes into disjoint spans clipped to [fromMs, toMs): its
 * hardware-only stretches of the one definition of down time (down-time.ts).
 */
export function downtimeSpans(
  flags: readonly Flag[],
  fromMs: number,
  toMs: number,
  nowMs: number,
): DowntimeSpan[] {
  const uuid = flags.find((f) => f.gpuUuid !== null)?.gpuUuid;
  if (!uuid) return [];
  return DownFlags.of(flags, DOWNTIME_KINDS)
    .gpuStretches(uuid, fromMs, toMs, nowMs)
    .map((s) => ({ fromMs: s.fromMs, toMs: s.toMs, kinds: s.kinds }));
}

/**
 * One GPU's hardware downtime over its places (one per host it was on, host-changes.ts): its own
 * episodes raised on each place's host, clipped to the place, as the downtime report cuts them.
 */
export function placedDowntimeSpans(
  uuid: string,
  flags: readonly Flag[],
  places: readonly GpuPlace[],
  nowMs: number,
): DowntimeSpan[] {
  return DownFlags.of(flags, DOWNTIME_KINDS)
    .stretches(uuid, places, nowMs)
    .map((s) => ({ fromMs: s.fromMs, toMs: s.toMs, kinds: s.kinds }));
}

export interface HealthReportInput {
  fromMs: number;
  toMs: number;
  nowMs: number;
  groups: readonly EventGroup[];
  /** Lost, reset-required and error episodes overlapping the range (any GPU). */
  flags: readonly Flag[];
  modelOf: (uuid: string) => string;
  /** Leases on a GPU (or its MIG devices) overlapping the range; absent: no leases are kept. */
  leasesOn?: (uuid: string) => readonly DowntimeLease[];
}

export function healthReport(input: HealthReportInput): HealthReport {
  const { groups, fromMs, toMs } = input;
  const byCode = new Map<string, XidCount>();
  const byModel = new Map<string, { model: string; count: number; hardware: number }>();
  const byHost = new Map<string, { host: string; count: number; hardware: number }>();
  const perGpu = new Map<
    string,
    { host: string; hardware: number; offBus: number; remapFail: number; lastMs: number }
  >();
  let total = 0;
  for (const g of groups) {
    total += g.count;
    const hw = isHardwareXid(g) ? g.count : 0;
    const codeKey = `${g.code}/${g.action}/${g.applicationLevel}`;
    const c = byCode.get(codeKey) ?? {
      code: g.code,
      mnemonic: xidEntry(g.code)?.mnemonic ?? null,
      action: g.action,
      applicationLevel: g.applicationLevel,
      count: 0,
    };
    c.count += g.count;
    byCode.set(codeKey, c);
    const model = g.gpuUuid ? input.modelOf(g.gpuUuid) || "unknown" : "unmapped";
    const m = byModel.get(model) ?? { model, count: 0, hardware: 0 };
    m.count += g.count;
    m.hardware += hw;
    byModel.set(model, m);
    const h = byHost.get(g.host) ?? { host: g.host, count: 0, hardware: 0 };
    h.count += g.count;
    h.hardware += hw;
    byHost.set(g.host, h);
    if (!g.gpuUuid) continue;
    const p = perGpu.get(g.gpuUuid) ?? { host: g.host, hardware: 0, offBus: 0, remapFail: 0, lastMs: 0 };
    p.hardware += hw;
    if (g.code === XID_OFF_THE_BUS) p.offBus += g.count;
    if (g.code === XID_REMAP_FAILURE) p.remapFail += g.count;
    p.lastMs = Math.max(p.lastMs, g.lastMs);
    perGpu.set(g.gpuUuid, p);
  }
  for (const f of input.flags) {
    if (f.kind !== "error" || f.values.remapped_rows_failure !== true || !f.gpuUuid) continue;
    const p = perGpu.get(f.gpuUuid) ?? { host: f.host, hardware: 0, offBus: 0, remapFail: 0, lastMs: 0 };
    p.remapFail += 1;
    p.lastMs = Math.max(p.lastMs, f.startMs);
    perGpu.set(f.gpuUuid, p);
  }
  const rma: RmaCandidate[] = [];
  for (const [uuid, p] of perGpu) {
    const reasons: string[] = [];
    if (p.hardware >= RMA_REPEATED_XIDS) reasons.push(`repeated hardware Xids (${p.hardware})`);
    if (p.remapFail > 0) reasons.push("row remap failure");
    if (p.offBus > 1) reasons.push(`fell off the bus ${p.offBus} times (Xid 79)`);
    if (reasons.length > 0)
      rma.push({
        uuid,
        host: p.host,
        model: input.modelOf(uuid) || "unknown",
        reasons,
        hardwareXids: p.hardware,
        lastMs: p.lastMs,
      });
  }
  rma.sort(
    (a, b) =>
      b.reasons.length - a.reasons.length || b.hardwareXids - a.hardwareXids || a.uuid.localeCompare(b.uuid),
  );

  const downByGpu = new Map<string, Flag[]>();
  for (const f of input.flags) {
    if (!f.gpuUuid || !(DOWNTIME_KINDS as readonly string[]).includes(f.kind)) continue;
    const list = downByGpu.get(f.gpuUuid) ?? [];
    list.push(f);
    downByGpu.set(f.gpuUuid, list);
  }
  const downByHost = new Map<string, number>();
  const gpuDowntimes: GpuDowntime[] = [];
  let downMs = 0;
  for (const [uuid, flags] of downByGpu) {
    const spans = downtimeSpans(flags, fromMs, toMs, input.nowMs);
    const ms = stretchMs(spans);
    if (ms === 0) continue;
    gpuDowntimes.push({ uuid, spans, leases: input.leasesOn?.(uuid) ?? [] });
    downMs += ms;
    const host = flags[0]?.host ?? "";
    downByHost.set(host, (downByHost.get(host) ?? 0) + ms);
  }
  const hours = (ms: number) => Math.round((ms / 3_600_000) * 1000) / 1000;
  return {
    kind: "health",
    generatedMs: input.nowMs,
    fromMs,
    toMs,
    xid: {
      total,
      byCode: [...byCode.values()].sort((a, b) => b.count - a.count || a.code - b.code),
      // Ties by name: a merged report's inputs come in another order than one store's.
      byModel: [...byModel.values()].sort((a, b) => b.count - a.count || a.model.localeCompare(b.model)),
      byHost: [...byHost.values()].sort((a, b) => b.count - a.count || a.host.localeCompare(b.host)),
    },
    hardwareDowntime: {
      gpuHours: hours(downMs),
      gpus: gpuDowntimes.length,
      byHost: [...downByHost]
        .map(([host, ms]) => ({ host, gpuHours: hours(ms) }))
        .sort((a, b) => b.gpuHours - a.gpuHours || a.host.localeCompare(b.host)),
    },
    tenantDowntime: tenantDowntime(gpuDowntimes),
    rmaCandidates: rma,
  };
}
