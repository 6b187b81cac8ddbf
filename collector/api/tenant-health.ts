// Kernel-log events and a GPU's health timeline as one tenant sees them: only its leased GPUs'
// events inside its lease periods, and a timeline clipped to its latest lease period in the
// range. Flags lose their host labels (they may name other tenants), as in tenant-scope.ts.
import type { GpuView, TimeRange } from "../contract/api-contract.js";
import type { EventsAnswer, HealthTimeline } from "../reports/health-types.js";
import type { EventQuery } from "../store/event-store.js";
import type { HealthBackend } from "./health-backend.js";
import { clipToPeriod, type LeasePiece, type TenantScope } from "./tenant-scope.js";

/** Events of the tenant's lease periods (one read per lease piece), newest first, paged as the fleet's. */
export function tenantEvents(
  health: HealthBackend,
  scope: TenantScope,
  query: EventQuery,
  nowMs: number,
): EventsAnswer {
  const from = query.fromMs ?? Number.NEGATIVE_INFINITY;
  const to = query.toMs ?? Number.POSITIVE_INFINITY;
  // Exact periods (step 1 ms): events are instants, no rollup bucket is involved.
  const pieces = scope
    .pieces(from, to, 1)
    .filter((p) => query.gpuUuid === undefined || p.uuid === query.gpuUuid);
  const events = pieces
    .flatMap((p) => {
      // One more than asked per piece tells whether there is a next page.
      const { gpuUuid: _, ...rest } = query;
      return health.events({
        ...rest,
        gpuUuid: p.uuid,
        fromMs: p.fromMs,
        toMs: p.toMs,
        limit: query.limit + 1,
      }).events;
    })
    .sort((a, b) => b.timeMs - a.timeMs || b.id - a.id);
  const page = events.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    generatedMs: nowMs,
    limit: query.limit,
    next: events.length > query.limit && last ? `${last.timeMs}:${last.id}` : null,
    events: page,
  };
}

/** The latest lease period of this GPU inside the range; undefined when none (then: 404). */
export function tenantRange(scope: TenantScope, uuid: string, range: TimeRange): LeasePiece | undefined {
  const mine = scope.pieces(range.fromMs, range.toMs, 1).filter((p) => p.uuid === uuid);
  return mine.sort((a, b) => b.fromMs - a.fromMs)[0];
}

/**
 * The timeline over the tenant's period only, flags clipped to it at both ends (a flag that went
 * on after the lease ended ends there) and without host labels.
 */
export function tenantTimeline(
  health: HealthBackend,
  scope: TenantScope,
  gpu: GpuView,
  piece: LeasePiece,
  nowMs: number,
): HealthTimeline {
  const t = health.timeline(gpu, { fromMs: piece.fromMs, toMs: piece.toMs });
  const period = scope.latestPeriod([gpu.uuid], piece.fromMs, piece.toMs) ?? {
    startMs: piece.fromMs,
    endMs: Number.POSITIVE_INFINITY,
  };
  return { ...t, flags: t.flags.map((f) => clipToPeriod({ ...f, labels: {} }, period, nowMs)) };
}
