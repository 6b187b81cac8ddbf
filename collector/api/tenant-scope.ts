// What a tenant may see: the devices it leases, only during its lease periods. A tenant token
// is always scoped to its own tenant; an admin or viewer may ask `?tenant=NAME` to see the same
// view, which is how the fan-out carries a tenant's scope to the peers (the peers are asked
// with the fleet's admin token plus the query, and scope their own answers).
// Anything outside the scope answers as if it did not exist (404, or left out of a list), so a
// tenant learns nothing of other tenants' GPUs. A MIG device lease shows no whole-GPU data (the
// GPU's figures would include the other MIG tenants' work) but the GPU's down flags, which take
// the MIG device down with it and count in its statement (tenantFlags).
import type { FastifyRequest } from "fastify";
import type { GpuView, SeriesView } from "../contract/api-contract.js";
import type { Flag } from "../flags/types.js";
import type { LeaseService } from "../leases/service.js";
import { isDown } from "../reports/down-time.js";
import type { GpuWhereabouts } from "../reports/host-changes.js";
import { badParam } from "../request/errors.js";

/** One GPU's stretch of a tenant's lease inside a range. */
export interface LeasePiece {
  uuid: string;
  fromMs: number;
  toMs: number;
}

/** One lease's [startMs, endMs); endMs is +Infinity while the lease is open. */
export interface LeasePeriod {
  startMs: number;
  endMs: number;
}

/** Leases of one tenant indexed by device: the periods it may see. */
export class TenantScope {
  private constructor(
    readonly tenant: string,
    /**
     * Per device, the tenant's stays: its lease periods joined where they overlap or touch. A
     * renewal back to back is one stretch of the tenant's own time, so what spans the join (an
     * Xid flag, a bucket at an odd millisecond) is the tenant's as it would be under one lease.
     */
    private readonly periods: ReadonlyMap<string, readonly LeasePeriod[]>,
    /** Each device's GPU (itself, or the GPU a MIG device is on). */
    private readonly gpuOf: ReadonlyMap<string, string>,
  ) {}

  static of(leases: LeaseService, tenant: string): TenantScope {
    const periods = new Map<string, LeasePeriod[]>();
    const gpuOf = new Map<string, string>();
    for (const l of leases.list({ tenant, limit: Number.MAX_SAFE_INTEGER })) {
      const list = periods.get(l.device) ?? [];
      list.push({ startMs: l.startMs, endMs: l.endMs ?? Number.POSITIVE_INFINITY });
      periods.set(l.device, list);
      gpuOf.set(l.device, l.gpu);
    }
    for (const [device, list] of periods) periods.set(device, joined(list));
    return new TenantScope(tenant, periods, gpuOf);
  }

  /** Sees nothing (no lease store here). */
  static empty(tenant: string): TenantScope {
    return new TenantScope(tenant, new Map(), new Map());
  }

  holdsAt(device: string, atMs: number): boolean {
    return (this.periods.get(device) ?? []).some((p) => p.startMs <= atMs && atMs < p.endMs);
  }

  overlaps(device: string, fromMs: number, toMs: number): boolean {
    return (this.periods.get(device) ?? []).some((p) => p.startMs < toMs && fromMs < p.endMs);
  }

  /** [fromMs, toMs) lies inside one period. */
  covers(device: string, fromMs: number, toMs: number): boolean {
    return (this.periods.get(device) ?? []).some((p) => p.startMs <= fromMs && toMs <= p.endMs);
  }

  /** The GPUs of the devices held at `atMs` (a MIG device's is the GPU it is on). */
  gpusHeldAt(atMs: number): string[] {
    const held = this.devices().filter((device) => this.holdsAt(device, atMs));
    return [...new Set(held.map((device) => this.gpuOf.get(device) ?? device))];
  }

  /** Every lease period with its device: where the tenant may look, for a store query. */
  windows(): { device: string; gpu: string; fromMs: number; toMs: number }[] {
    return [...this.periods].flatMap(([device, list]) =>
      list.map((p) => ({ device, gpu: this.gpuOf.get(device) ?? device, fromMs: p.startMs, toMs: p.endMs })),
    );
  }

  /** The devices with any lease period (current or past). */
  devices(): string[] {
    return [...this.periods.keys()];
  }

  /** The GPUs of those devices (a MIG device's is the GPU it is on). */
  gpus(): string[] {
    return [...new Set(this.gpuOf.values())];
  }

  /**
   * Each lease period's part of [fromMs, toMs), shrunk inward to whole `stepMs` steps: a
   * rollup bucket the lease does not wholly cover would mix in another tenant's time.
   */
  pieces(fromMs: number, toMs: number, stepMs: number): LeasePiece[] {
    const out: LeasePiece[] = [];
    for (const [uuid, list] of this.periods)
      for (const p of list) {
        const a = Math.ceil(Math.max(fromMs, p.startMs) / stepMs) * stepMs;
        const end = Math.min(toMs, p.endMs);
        const b = Number.isFinite(end) ? Math.floor(end / stepMs) * stepMs : a;
        if (b > a) out.push({ uuid, fromMs: a, toMs: b });
      }
    return out;
  }

  /** Of these devices' periods overlapping [fromMs, toMs), the one that starts last. */
  latestPeriod(devices: readonly string[], fromMs: number, toMs: number): LeasePeriod | undefined {
    let latest: LeasePeriod | undefined;
    for (const device of devices)
      for (const p of this.periods.get(device) ?? [])
        if (p.startMs < toMs && fromMs < p.endMs && (!latest || p.startMs > latest.startMs)) latest = p;
    return latest;
  }

  /**
   * The tenant's stays on the device (or on any of `devices`: a MIG session's device and its GPU)
   * overlapping [fromMs, toMs), oldest first: its lease periods there, two that overlap or touch
   * (one lease ending where the next begins) joined into one.
   */
  staysOf(devices: string | readonly string[], fromMs: number, toMs: number): LeasePeriod[] {
    const list = typeof devices === "string" ? [devices] : devices;
    return joined(
      list.flatMap((device) =>
        (this.periods.get(device) ?? []).filter((p) => p.startMs < toMs && fromMs < p.endMs),
      ),
    );
  }

  /**
   * The tenant's stays with GPU `gpu` down to it (down-time.ts: a MIG device is down while its GPU
   * is) overlapping [fromMs, toMs), oldest first: its periods on the GPU and on its MIG devices,
   * joined where they overlap or touch.
   */
  downStaysOf(gpu: string, fromMs: number, toMs: number): LeasePeriod[] {
    return this.staysOf(this.devicesOn(gpu), fromMs, toMs);
  }

  /** The devices the tenant ever leased on GPU `gpu`: the GPU itself and any of its MIG devices. */
  devicesOn(gpu: string): string[] {
    return [...this.gpuOf].filter(([, of]) => of === gpu).map(([device]) => device);
  }

  /**
   * The tenant's stays on `host` overlapping [fromMs, toMs), oldest first: the stretches of its
   * lease periods during which the GPU of one of its devices was on that host (per `where`), those
   * of several devices (or of leases that touch) joined where they overlap or touch. A host-level
   * flag concerns the tenant only while a GPU of its was on that host, wherever the GPU was before
   * or after (it may have left the host and come back within one flag or one period).
   */
  staysOn(host: string, fromMs: number, toMs: number, where: GpuWhereabouts): LeasePeriod[] {
    const stretches: LeasePeriod[] = [];
    for (const [device, list] of this.periods)
      for (const p of list) {
        if (p.startMs >= toMs || fromMs >= p.endMs) continue;
        for (const place of where.places(this.gpuOf.get(device) ?? device, p.startMs, p.endMs))
          if (place.host === host && place.fromMs < toMs && fromMs < place.toMs)
            stretches.push({ startMs: place.fromMs, endMs: place.toMs });
      }
    return joined(stretches);
  }
}

/** The scope of this request: a tenant token's own tenant, else `?tenant=` if given, else none. */
export function scopeFor(
  req: FastifyRequest,
  asked: string | undefined,
  leases: LeaseService | undefined,
): TenantScope | undefined {
  const p = req.principal;
  const tenant = p?.role === "tenant" ? p.tenant : asked;
  if (tenant === undefined) return undefined;
  return leases ? TenantScope.of(leases, tenant) : TenantScope.empty(tenant);
}

/**
 * A tenant's lists take no host-label filter: host labels may name other tenants, and a filter
 * that tells two values apart would show the label it is never shown.
 */
export function refuseLabelFilter(label: string | undefined): void {
  if (label !== undefined)
    throw badParam("label", "a tenant's view shows no host labels: narrow by site, host or model");
}

/**
 * The tenant's open entries (tenantOpenFlags) by the stored flag each is of, for tenantGpuView:
 * made once per list, not once per GPU (910 GPUs with 10,000 entries took seconds).
 */
export function openEntries(open: readonly Flag[]): ReadonlyMap<number, Flag> {
  return new Map(open.map((e) => [storedIdOf(e.id), e]));
}

/**
 * A GPU as its tenant sees it: host labels (which may name other tenants) left out, and each open
 * flag as the tenant's flag list shows its open entry (`entries`: openEntries), its id, start and
 * sentence: a flag's sentence written before the lease, or naming another MIG tenant's process
 * (an Xid of the tenant's earlier MIG stay, open on into its whole-GPU lease), is withheld here as
 * there. A flag with no open entry of the tenant's is left out.
 */
export function tenantGpuView(gpu: GpuView, entries: ReadonlyMap<number, Flag>): GpuView {
  return {
    ...gpu,
    labels: {},
    flags: gpu.flags.flatMap((f) => {
      const e = entries.get(f.id);
      return e ? [{ ...f, id: e.id, startMs: e.startMs, reason: e.reason }] : [];
    }),
  };
}

/**
 * Buckets not wholly inside a lease period are blanked (their figures would mix in other tenants'
 * time); the GPU is named on `host`, the host of the lease (leaseHost).
 */
export function tenantSeries(scope: TenantScope, series: SeriesView, host: string): SeriesView {
  const keep = series.t.map((t) => scope.covers(series.uuid, t, t + series.stepMs));
  const blank = (values: (number | null)[]) => values.map((v, i) => (keep[i] ? v : null));
  const metrics: SeriesView["metrics"] = {};
  for (const [key, m] of Object.entries(series.metrics))
    if (m)
      metrics[key as keyof SeriesView["metrics"]] = {
        min: blank(m.min),
        max: blank(m.max),
        avg: blank(m.avg),
        ...(m.count ? { count: m.count.map((n, i) => (keep[i] ? n : 0)) } : {}),
      };
  return { ...series, host, metrics };
}

/**
 * GPU flags of leased devices that overlap a period, and the down flags of the GPUs of its MIG
 * devices (down-time.ts isDown: lost, error, reset-required, a hardware Xid), which its statement
 * counts as its MIG device's down time (an Xid's sentence and values, which name the process it
 * hit, and those of a reset-required an Xid asked for, left out unless it held the whole GPU);
 * host-level flags (stale, offline, an Xid on no GPU the agent could name, its sentence and
 * values left out: xidWithheld) of a host one of the tenant's GPUs (a MIG device's: its GPU) was
 * on (`where`) during the flag and its lease: they count against its availability, as its
 * statement's down time does (reports/down-time.ts), and a host its GPU was not on then is none
 * of its business. A flag is
 * shown once per stay of the tenant's it overlaps (TenantScope.staysOf, staysOn), clipped to that
 * stay: a flag that goes on after the lease ended (or the GPU left) is closed then for the
 * tenant, which learns nothing of the device after its lease (nor of another tenant's time
 * between two of its leases, nor of a host its GPU had left), and what its pieces add up to is
 * what its statement counts down, except a hardware `xid` entry: it spans the flag's quiet period,
 * while its down time ends at the episode's last hardware Xid (reports/down-time.ts). The first
 * piece keeps the flag's id, the others take stayPieceId's. Labels are left out.
 */
export function tenantFlags<F extends Flag>(
  scope: TenantScope,
  flags: readonly F[],
  where: GpuWhereabouts,
  nowMs: number,
): F[] {
  const out: F[] = [];
  for (const f of flags) {
    const end = f.endMs ?? nowMs + 1;
    const gpu = f.gpuUuid;
    const stays =
      gpu === null
        ? scope.staysOn(f.host, f.startMs, end, where)
        : isDown(f)
          ? scope.downStaysOf(gpu, f.startMs, end)
          : scope.staysOf(gpu, f.startMs, end);
    stays.forEach((stay, n) => {
      const piece = clipToPeriod({ ...f, id: stayPieceId(f.id, n), labels: {} }, stay, nowMs);
      const withheld = xidWithheld(scope, f, piece.startMs, piece.endMs ?? end);
      out.push(withheld ? { ...piece, reason: withheld, values: {} } : noteWithheld(scope, piece));
    });
  }
  return out;
}

/**
 * Why an Xid's sentence and values (they name the process it hit) are withheld over [fromMs, toMs)
 * of the tenant's, if they are: on a GPU in MIG mode another MIG tenant's process, unless the whole
 * GPU was the tenant's then; on no GPU the agent could name (a host-level flag), any tenant's
 * process on the host's GPUs. A reset-required flag an Xid asked for names the Xid (its number in
 * the sentence and `xid_code`) and is withheld alike, so that it tells no more than the xid entry.
 * An xid flag's sentence is its first Xid's (its start) and its values name its last Xid's process
 * (`last_ms`), so they are shown only when both Xids happened inside the one lease period of the
 * whole GPU that holds the piece: the flag's last update (clipToPeriod) may be the tenant's own
 * Xid on a flag a previous tenant's Xid opened, whose process the sentence still names.
 */
function xidWithheld(scope: TenantScope, f: Flag, fromMs: number, toMs: number): string | undefined {
  if (f.kind !== "xid" && !(f.kind === "reset-required" && f.values.xid_code !== undefined)) return undefined;
  if (f.gpuUuid === null) return HOST_XID_WITHHELD_REASON;
  if (!scope.covers(f.gpuUuid, fromMs, toMs)) return MIG_WITHHELD_REASON;
  if (f.kind !== "xid") return undefined;
  const lastXidMs = Number(f.values.last_ms ?? f.startMs);
  const inside = scope.covers(f.gpuUuid, Math.min(fromMs, f.startMs), Math.max(toMs, lastXidMs + 1));
  return inside ? undefined : WITHHELD_REASON;
}

/**
 * The flag piece without its operator's note (an acknowledgement's, `values.ack_note` and the
 * sentence's ". Acknowledged: NOTE"), unless the tenant held the whole GPU over the piece: the
 * note is the operators' and may name the process of another MIG tenant (docs/leases.md). The
 * rest of the sentence stays (a recovery action's or remapped rows' cause names no one); a
 * sentence that does not end with the note is withheld whole.
 */
function noteWithheld<F extends Flag>(scope: TenantScope, piece: F): F {
  const note = piece.values.ack_note;
  if (note === undefined || piece.gpuUuid === null) return piece;
  if (scope.covers(piece.gpuUuid, piece.startMs, piece.endMs ?? Number.POSITIVE_INFINITY)) return piece;
  const { ack_note: _note, ...values } = piece.values;
  const suffix = `. Acknowledged: ${String(note)}`;
  const reason = piece.reason.endsWith(suffix)
    ? `${piece.reason.slice(0, -suffix.length)}. Acknowledged; ${MIG_NOTE_WITHHELD}`
    : MIG_NOTE_WITHHELD;
  return { ...piece, reason, values };
}

/** Whether a flag meets [fromMs, toMs] (both ends included, either open), as the store's history reads it. */
export function meetsRange(f: Pick<Flag, "startMs" | "endMs">, fromMs?: number, toMs?: number): boolean {
  return (
    (fromMs === undefined || (f.endMs ?? Number.POSITIVE_INFINITY) >= fromMs) &&
    (toMs === undefined || f.startMs <= toMs)
  );
}

/** What each later stay's piece of a flag adds to its id (stored flag ids stay far below it). */
const STAY_ID_STEP = 2 ** 32;

/**
 * The id of the n-th piece (from 0, oldest first) of flag or process session `id` as a tenant
 * sees it: the record's own id for the first, `id + n·2^32` for a later one. It counts only the
 * tenant's own stays within the record, so it tells nothing of the time outside them, and a piece
 * keeps its id as later stays come (the past is never rewritten; only a lease recorded later for
 * a span before the piece renumbers it).
 */
export function stayPieceId(id: number, n: number): number {
  return id + n * STAY_ID_STEP;
}

/** The stored id of the flag (or session) a tenant's piece `id` (stayPieceId) is of. */
function storedIdOf(id: number): number {
  return id % STAY_ID_STEP;
}

/** Periods joined where they overlap or touch, oldest first. */
function joined(periods: readonly LeasePeriod[]): LeasePeriod[] {
  const out: LeasePeriod[] = [];
  for (const p of [...periods].sort((a, b) => a.startMs - b.startMs)) {
    const last = out[out.length - 1];
    if (last && p.startMs <= last.endMs) last.endMs = Math.max(last.endMs, p.endMs);
    else out.push({ ...p });
  }
  return out;
}

/** What a tenant reads in place of a flag's sentence written outside its lease. */
export const WITHHELD_REASON = "details withheld: written outside this lease";
/** What a MIG device's tenant reads in place of its GPU's Xid sentence (it names a process). */
export const MIG_WITHHELD_REASON = "details withheld: an Xid of the GPU this MIG device is on";
/** What a MIG device's tenant reads in place of an operator's note on its GPU's flag (noteWithheld). */
export const MIG_NOTE_WITHHELD = "details withheld: an operator's note on the GPU this MIG device is on";
/** What a tenant reads in place of the sentence of an Xid its host logged on no GPU it could name. */
export const HOST_XID_WITHHELD_REASON = "details withheld: an Xid of this host on a GPU not named";
/** The sentences an Xid's entry reads when its details are withheld (xidWithheld). */
export const XID_WITHHELD_REASONS: readonly string[] = [MIG_WITHHELD_REASON, HOST_XID_WITHHELD_REASON];

/**
 * The flag as seen within one lease period: it ends where the period ended before it did. Its
 * sentence and values are those of its last update; written before the lease began or after it
 * ended, they describe another lease's time (an idle-held flag names the holder's user, pod and
 * job), so they are left out.
 */
export function clipToPeriod<F extends Flag>(f: F, period: LeasePeriod, nowMs: number): F {
  const startMs = Math.max(f.startMs, period.startMs);
  const outside = f.updatedMs < period.startMs || f.updatedMs >= period.endMs;
  const details = outside ? { reason: WITHHELD_REASON, values: {} } : {};
  const cut = period.endMs <= nowMs && period.endMs < (f.endMs ?? Number.POSITIVE_INFINITY);
  if (!cut) return { ...f, ...details, startMs };
  return { ...f, ...details, startMs, endMs: period.endMs, updatedMs: Math.min(f.updatedMs, period.endMs) };
}
