// When was a GPU down, and why: the one answer behind every availability figure (issue 15: "time a
// leased GPU was lost, erroring, offline or stale counts as down"; the health issue adds
// reset-required and hardware Xids). The downtime report, the lease lines (statements and lease
// reports), the tenants view and the health report's hardware downtime all take their stretches
// from here, so they agree on the same flags (docs/leases.md, "Availability").
//
// A GPU is down while one of its own episodes of these kinds is open (an xid only when its opening
// Xid is a hardware Xid, isDown: a workload's Xid is not the GPU's fault, and one NVIDIA says to
// ignore leaves it working), or while its host has an offline or stale episode open (the host's
// GPUs are unreachable) — the host it was on at the time.
// Overlapping episodes merge into one stretch carrying every kind and reason; an open episode runs
// up to now, except an xid one, which is down from its first hardware Xid to its last, open or
// closed (xidDownEnd), so its down time is not taken back when it closes. Pure: the callers read
// the flags and the GPU's hosts.
import { judgeXid } from "../../shared/xid/judge.js";
import { isHardwareXid, xidEntry } from "../../shared/xid/xid.js";
import type { Flag } from "../flags/types.js";

export const DOWN_KINDS = ["lost", "error", "reset-required", "xid", "offline", "stale"] as const;
export type DownKind = (typeof DOWN_KINDS)[number];
/** Reasons kept per stretch: the kinds say the rest. */
const MAX_REASONS = 5;

export interface DownInterval {
  fromMs: number;
  toMs: number;
  kinds: DownKind[];
  reasons: string[];
}

/** Where a GPU was: on `host` over [fromMs, toMs). */
export interface GpuPlace {
  host: string;
  fromMs: number;
  toMs: number;
}

/**
 * Whether an episode of this flag means its GPU (or its host's GPUs) was down: an xid one only
 * when the Xid that opened it (its fault and action) is a hardware Xid as the health report counts
 * them (isHardwareXid), so an Xid NVIDIA says to ignore (63, 92) takes no GPU down however often
 * it repeats.
 */
export function isDown(f: Flag): boolean {
  if (!(DOWN_KINDS as readonly string[]).includes(f.kind)) return false;
  return (
    f.kind !== "xid" ||
    isHardwareXid({ applicationLevel: f.values.fault !== "hardware", action: String(f.values.action) })
  );
}

interface Part {
  from: number;
  to: number;
  kind: DownKind;
  reason: string;
}

/**
 * Disjoint stretches, sorted, from overlapping parts. Parts that start together are taken by
 * kind, then reason: a stretch's kinds and reasons must not depend on the order the flag history
 * gave them in (several collectors' merged flags give one collector's report).
 */
export function mergeParts(parts: readonly Part[]): DownInterval[] {
  const out: DownInterval[] = [];
  const order = (a: Part, b: Part) =>
    a.from - b.from || a.kind.localeCompare(b.kind) || a.reason.localeCompare(b.reason);
  for (const p of [...parts].sort(order)) {
    const last = out[out.length - 1];
    if (last && p.from <= last.toMs) {
      last.toMs = Math.max(last.toMs, p.to);
      if (!last.kinds.includes(p.kind)) last.kinds.push(p.kind);
      if (!last.reasons.includes(p.reason) && last.reasons.length < MAX_REASONS) last.reasons.push(p.reason);
    } else out.push({ fromMs: p.from, toMs: p.to, kinds: [p.kind], reasons: [p.reason] });
  }
  return out;
}

/** A down stretch as lease parts carry it between collectors: its time and kinds, no reasons. */
export interface DownEpisode {
  fromMs: number;
  toMs: number;
  /** Sorted, so that the same stretch reads the same from every collector. */
  kinds: DownKind[];
}

/**
 * The union of several lists of down stretches (one per collector, or one collector's own):
 * overlapping or touching stretches join, carrying every kind once; overlaps count once. The
 * join is mergeParts', so a stretch reads the same as one collector holding every flag gives it.
 */
export function unionEpisodes(lists: readonly (readonly DownEpisode[])[]): DownEpisode[] {
  const parts: Part[] = [];
  for (const list of lists)
    for (const e of list)
      for (const kind of e.kinds) parts.push({ from: e.fromMs, to: e.toMs, kind, reason: "" });
  return mergeParts(parts).map((s) => ({ fromMs: s.fromMs, toMs: s.toMs, kinds: s.kinds.sort() }));
}

/** The stretches' time inside [fromMs, toMs), ms. */
export function stretchMsIn(
  stretches: readonly { fromMs: number; toMs: number }[],
  fromMs: number,
  toMs: number,
): number {
  let n = 0;
  for (const s of stretches) n += Math.max(0, Math.min(s.toMs, toMs) - Math.max(s.fromMs, fromMs));
  return n;
}

/** Total time of disjoint stretches, ms. */
export function stretchMs(stretches: readonly { fromMs: number; toMs: number }[]): number {
  return stretches.reduce((n, s) => n + (s.toMs - s.fromMs), 0);
}

/** The down episodes of a flag history, indexed by GPU and by host: built once per report. */
export class DownFlags {
  private constructor(
    private readonly byGpu: ReadonlyMap<string, readonly Flag[]>,
    private readonly byHost: ReadonlyMap<string, readonly Flag[]>,
  ) {}

  /** `kinds`: a narrower set (the health report's hardware downtime: lost, reset-required). */
  static of(flags: readonly Flag[], kinds: readonly DownKind[] = DOWN_KINDS): DownFlags {
    const byGpu = new Map<string, Flag[]>();
    const byHost = new Map<string, Flag[]>();
    for (const f of flags) {
      if (!isDown(f) || !(kinds as readonly string[]).includes(f.kind)) continue;
      // A flag without a GPU is its host's (offline, stale): it takes down every GPU there.
      const [map, key] = f.gpuUuid === null ? [byHost, f.host] : [byGpu, f.gpuUuid];
      const list = map.get(key);
      if (list) list.push(f);
      else map.set(key, [f]);
    }
    return new DownFlags(byGpu, byHost);
  }

  /** Whether this GPU can have been down: an episode of its own, or any host's. */
  mayTouch(uuid: string): boolean {
    return this.byGpu.has(uuid) || this.byHost.size > 0;
  }

  /**
   * The GPU's down stretches over its places: its own episodes raised on the place's host and
   * that host's offline and stale episodes, each clipped to the place; open ones end at nowMs.
   * `only`: of these kinds alone (a report's time per reason).
   */
  stretches(
    uuid: string,
    places: readonly GpuPlace[],
    nowMs: number,
    only?: readonly DownKind[],
  ): DownInterval[] {
    const parts: Part[] = [];
    const own = this.byGpu.get(uuid) ?? [];
    for (const place of places) {
      clip(
        own.filter((f) => f.host === place.host),
        place,
        nowMs,
        parts,
      );
      clip(this.byHost.get(place.host) ?? [], place, nowMs, parts);
    }
    return mergeParts(only ? parts.filter((p) => only.includes(p.kind)) : parts);
  }

  /** The GPU's own episodes, on whichever host, over [fromMs, toMs) (no host-level ones). */
  gpuStretches(uuid: string, fromMs: number, toMs: number, nowMs: number): DownInterval[] {
    const parts: Part[] = [];
    clip(this.byGpu.get(uuid) ?? [], { host: "", fromMs, toMs }, nowMs, parts);
    return mergeParts(parts);
  }
}

/**
 * Where an episode's down time ends: its end, or now while open; an xid episode's at its last
 * Xid that takes the GPU down (`fault_last_ms`, agent time), whether the flag is still open (it
 * stays so for its quiet spell), closed after that spell, or acknowledged: the time after that
 * Xid is not the hardware's, and a statement must not count it while the flag is open only to
 * drop it once the flag closes (docs/design.md §7, docs/leases.md "Availability"). A flag stored
 * before `fault_last_ms` was kept (before 2026-12-07) ends at its last Xid (`last_ms`, agent time)
 * when that one takes a GPU down (its code and line judged as ingest judges them), else at its
 * start: its quiet spell, or the time up to now while it was still open, is not down time, and
 * what the flag cannot tell is not billed.
 */
export function xidDownEnd(f: Flag, nowMs: number): number {
  const end = f.endMs ?? nowMs;
  if (f.kind !== "xid") return end;
  const last = typeof f.values.fault_last_ms === "number" ? f.values.fault_last_ms : storedLastMs(f);
  return Math.min(end, last);
}

/** An xid flag without `fault_last_ms`: its last Xid's time if that one takes a GPU down, else its start. */
function storedLastMs(f: Flag): number {
  const code = Number(f.values.last_code ?? f.values.code);
  const lastMs = f.values.last_ms;
  if (!Number.isInteger(code) || typeof lastMs !== "number") return f.startMs;
  const taken = isHardwareXid({
    applicationLevel: xidEntry(code)?.applicationLevel ?? false,
    action: judgeXid(code, String(f.values.message ?? "")).action,
  });
  return taken ? lastMs : f.startMs;
}

/** Each episode's down part inside the place and before now (xidDownEnd: an open one runs up to now). */
function clip(flags: readonly Flag[], place: GpuPlace, nowMs: number, into: Part[]): void {
  for (const f of flags) {
    const from = Math.max(f.startMs, place.fromMs);
    const to = Math.min(xidDownEnd(f, nowMs), place.toMs, nowMs);
    if (to > from) into.push({ from, to, kind: f.kind as DownKind, reason: f.reason });
  }
}
