// The lease rules as pure functions: when two leases collide, what an edit, an end or a delete
// may change at a given moment. Nothing here reads a clock or a database: `nowMs` is given.
//
// What may change, and when (docs/leases.md repeats this):
//   scheduled (now < start): every field but the id; a new start may not lie in the past.
//   active (start <= now < end):  only `end`, to a time >= now (or null: open again). Tenant,
//            device, start, price, currency, commitment, contract and labels describe time
//            already used: to change them, end the lease now and create a new one.
//   ended (end <= now):  nothing. Deleting is allowed only while scheduled.
// So the past is never rewritten: every boundary that moves lies at or after now.
import { badParam } from "../request/errors.js";
import { conflictError, refused } from "./errors.js";
import { checkConsistent, type Lease, type LeaseFields, leaseState } from "./model.js";

type Span = Pick<Lease, "startMs" | "endMs">;
type Placed = Pick<Lease, "id" | "device" | "gpu" | "startMs" | "endMs">;

/** [a.start, a.end) and [b.start, b.end) share an instant (null end: open). */
export function overlaps(a: Span, b: Span): boolean {
  return (a.endMs === null || b.startMs < a.endMs) && (b.endMs === null || a.startMs < b.endMs);
}

/**
 * Two leases need the same hardware: the same device, or one is the whole GPU the other's MIG
 * device belongs to. Two MIG devices of one GPU do not collide.
 */
export function sameHardware(a: Placed, b: Placed): boolean {
  return a.device === b.device || a.device === b.gpu || b.device === a.gpu;
}

/** The first of `others` (another id) that collides with `lease`, earliest start first. */
export function findConflict(lease: Placed, others: readonly Lease[]): Lease | undefined {
  return [...others]
    .sort((x, y) => x.startMs - y.startMs || x.id.localeCompare(y.id))
    .find((o) => o.id !== lease.id && sameHardware(lease, o) && overlaps(lease, o));
}

export function assertNoConflict(lease: Placed, others: readonly Lease[]): void {
  const other = findConflict(lease, others);
  if (!other) return;
  const span = `${iso(other.startMs)} – ${other.endMs === null ? "open" : iso(other.endMs)}`;
  throw conflictError(
    "device",
    other.id,
    `overlaps lease ${JSON.stringify(other.id)} (tenant ${other.tenant}, ${other.device}, ${span})`,
  );
}

const EDITABLE_ONCE_STARTED: ReadonlySet<keyof LeaseFields> = new Set(["endMs"]);
const NAME: Record<keyof LeaseFields, string> = {
  id: "id",
  device: "device",
  tenant: "tenant",
  startMs: "start",
  endMs: "end",
  contract: "contract",
  priceMicros: "pricePerGpuHour",
  currency: "currency",
  availabilityMilli: "committedAvailabilityPct",
  labels: "labels",
};

function differs(lease: Lease, key: keyof LeaseFields, value: unknown): boolean {
  const current = key === "device" ? lease.device : lease[key];
  return comparable(key, current) !== comparable(key, value);
}

/** Labels are a set of pairs: the same ones in another order (a re-sorted import file) are no change. */
function comparable(key: keyof LeaseFields, value: unknown): string {
  if (key !== "labels" || typeof value !== "object" || value === null) return JSON.stringify(value);
  return JSON.stringify(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The lease after `patch` at `nowMs`, or an error naming the first field that may not change.
 * Fields equal to the current value are not changes (a re-import of the same file passes).
 * A new device is placed on itself (a MIG device's parent is resolved by the caller).
 */
export function planEdit(lease: Lease, patch: LeaseFields, nowMs: number): Lease {
  const state = leaseState(lease, nowMs);
  const changed = (Object.keys(patch) as (keyof LeaseFields)[]).filter(
    (k) => patch[k] !== undefined && differs(lease, k, patch[k]),
  );
  for (const key of changed) {
    if (key === "id") throw badParam("id", "a lease's id cannot change");
    if (state === "ended")
      throw refused(
        NAME[key],
        `lease ${lease.id} ended at ${iso(lease.endMs ?? 0)}: it is history and cannot change`,
      );
    if (state === "active" && !EDITABLE_ONCE_STARTED.has(key))
      throw refused(
        NAME[key],
        `lease ${lease.id} started at ${iso(lease.startMs)}: ${NAME[key]} can no longer change (it would rewrite what was used); end it and create a new lease`,
      );
  }
  const next: Lease = { ...lease };
  for (const key of changed) Object.assign(next, { [key]: patch[key] });
  if (patch.device !== undefined && changed.includes("device")) next.gpu = patch.device;
  if (changed.includes("startMs") && next.startMs < nowMs)
    throw refused("start", `a new start may not lie in the past (now ${iso(nowMs)})`);
  if (changed.includes("endMs") && next.endMs !== null && next.endMs < nowMs)
    throw refused(
      "end",
      `a new end may not lie in the past (now ${iso(nowMs)}): that would rewrite what was used`,
    );
  checkConsistent(next.startMs, next.endMs, next.priceMicros, next.currency);
  return next;
}

/** The lease ended at `atMs` (>= now): refused once ended, or before its start. */
export function planEnd(lease: Lease, atMs: number, nowMs: number): Lease {
  if (leaseState(lease, nowMs) === "ended")
    throw refused("end", `lease ${lease.id} already ended at ${iso(lease.endMs ?? 0)}`);
  if (atMs < nowMs)
    throw refused(
      "end",
      `${iso(atMs)} lies in the past (now ${iso(nowMs)}): ending there would rewrite what was used`,
    );
  if (!(atMs > lease.startMs))
    throw badParam(
      "end",
      `must be after the lease's start ${iso(lease.startMs)} (a lease that has not started can be deleted)`,
    );
  return { ...lease, endMs: atMs };
}

/** Only a lease that has not started may be deleted: a started one is history. */
export function checkDelete(lease: Lease, nowMs: number): void {
  if (leaseState(lease, nowMs) !== "scheduled")
    throw refused(
      "id",
      `lease ${lease.id} started at ${iso(lease.startMs)}: only a lease that has not started can be deleted; end it instead`,
    );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
