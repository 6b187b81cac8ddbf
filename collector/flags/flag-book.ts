// The open flags, keyed by host, GPU and kind: opens, updates and closes them in the store and
// queues the events, which the engine delivers only after the store transaction has committed.

import { withHolder } from "./holder-text.js";
import type { Flag, FlagEvent, FlagKind, FlagRecords, FlagValues, NewFlag } from "./types.js";

/** Who holds a GPU now ("held by pid …"), for idle-held flags; undefined when no process is known. */
export type HolderLookup = (host: string, gpuUuid: string, nowMs: number) => string | undefined;

export function flagKey(host: string, uuid: string | null, kind: FlagKind): string {
  return `${host}\u0000${uuid ?? ""}\u0000${kind}`;
}

export class FlagBook {
  private readonly open = new Map<string, Flag>();
  private pending: FlagEvent[] = [];

  constructor(
    private readonly store: FlagRecords,
    private readonly holders?: HolderLookup,
  ) {}

  /** An idle-held flag's reason with its holder (the rule's own text otherwise unchanged). */
  private named(kind: FlagKind, host: string, uuid: string | null, reason: string, nowMs: number): string {
    if (kind !== "idle-held" || uuid === null || !this.holders) return reason;
    return withHolder(reason, this.holders(host, uuid, nowMs));
  }

  load(): Flag[] {
    const flags = this.store.openFlags();
    for (const flag of flags) this.open.set(flagKey(flag.host, flag.gpuUuid, flag.kind), flag);
    return flags;
  }

  get(host: string, uuid: string | null, kind: FlagKind): Flag | undefined {
    return this.open.get(flagKey(host, uuid, kind));
  }

  all(): IterableIterator<Flag> {
    return this.open.values();
  }

  get size(): number {
    return this.open.size;
  }

  /** Opens a flag unless one of this kind is already open for the host/GPU (one flag per episode). */
  openFlag(flag: NewFlag, nowMs: number): Flag | undefined {
    const key = flagKey(flag.host, flag.gpuUuid, flag.kind);
    if (this.open.has(key)) return undefined;
    const reason = this.named(flag.kind, flag.host, flag.gpuUuid, flag.reason, nowMs);
    const stored = this.store.insert({ ...flag, reason }, nowMs);
    this.open.set(key, stored);
    this.pending.push({ type: "opened", flag: stored });
    return stored;
  }

  updateFlag(
    host: string,
    uuid: string | null,
    kind: FlagKind,
    reason: string,
    values: FlagValues,
    nowMs: number,
  ): void {
    const key = flagKey(host, uuid, kind);
    const flag = this.open.get(key);
    if (!flag) return;
    const named = this.named(kind, host, uuid, reason, nowMs);
    const next: Flag = { ...flag, reason: named, values: { ...flag.values, ...values }, updatedMs: nowMs };
    this.store.update(next);
    this.open.set(key, next);
    this.pending.push({ type: "updated", flag: next });
  }

  closeFlag(
    host: string,
    uuid: string | null,
    kind: FlagKind,
    endMs: number,
    nowMs: number,
    change: { reason?: string | undefined; values?: FlagValues | undefined } = {},
  ): Flag | undefined {
    const key = flagKey(host, uuid, kind);
    const flag = this.open.get(key);
    if (!flag) return undefined;
    const closed: Flag = {
      ...flag,
      endMs: Math.max(endMs, flag.startMs),
      reason: change.reason ?? flag.reason,
      values: change.values ? { ...flag.values, ...change.values } : flag.values,
      updatedMs: nowMs,
    };
    this.store.close(closed);
    this.open.delete(key);
    this.pending.push({ type: "closed", flag: closed });
    return closed;
  }

  /** Names the current holders in the host's open idle-held flags (a new process set arrived). */
  renameHolders(host: string, nowMs: number): void {
    for (const flag of [...this.open.values()]) {
      if (flag.host !== host || flag.kind !== "idle-held" || flag.gpuUuid === null) continue;
      const reason = this.named(flag.kind, host, flag.gpuUuid, flag.reason, nowMs);
      if (reason !== flag.reason) this.updateFlag(host, flag.gpuUuid, flag.kind, reason, {}, nowMs);
    }
  }

  /** Events queued since the last call (to deliver after commit); a rolled-back batch discards them. */
  takeEvents(): FlagEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Forgets queued events and reloads open flags after a rolled-back transaction. */
  reset(): void {
    this.pending = [];
    this.open.clear();
    this.load();
  }
}
