// The holder an idle-held flag names: "held by pid 4121 python3 (user alice, pod uid 1a2b…,
// Slurm job 88123) for 3 h with 41 GiB". Pure. The biggest holder by memory is named; others are
// counted. The reason is the rule's own text and then this, after "; ", so a later update of the
// rule's text keeps the holder and a new process set replaces it.

/** What the flag needs of one process session (collector/store/process-store.ts rows). */
export interface HolderSession {
  pid: number;
  name: string;
  user: string | null;
  podUid: string | null;
  containerId: string | null;
  jobId: string | null;
  unit: string | null;
  startMs: number | null;
  firstSeenMs: number;
  memoryMib: number | null;
}

export const HELD_BY = "; held by ";

export function holderText(sessions: readonly HolderSession[], nowMs: number): string | undefined {
  const sorted = [...sessions].sort((a, b) => (b.memoryMib ?? 0) - (a.memoryMib ?? 0) || a.pid - b.pid);
  const top = sorted[0];
  if (!top) return undefined;
  const who = [
    top.user ? `user ${top.user}` : undefined,
    top.podUid ? `pod uid ${top.podUid.slice(0, 4)}…` : undefined,
    !top.podUid && top.containerId ? `container ${top.containerId.slice(0, 12)}` : undefined,
    top.jobId ? `Slurm job ${top.jobId}` : undefined,
    !top.podUid && !top.containerId && !top.jobId && top.unit ? `unit ${top.unit}` : undefined,
  ].filter((s): s is string => s !== undefined);
  const since = top.startMs ?? top.firstSeenMs;
  const parts = [`pid ${top.pid}${top.name ? ` ${top.name}` : ""}`];
  if (who.length > 0) parts.push(`(${who.join(", ")})`);
  parts.push(`for ${duration(nowMs - since)}`);
  if (top.memoryMib !== null) parts.push(`with ${memory(top.memoryMib)}`);
  const more = sorted.length - 1;
  return `held by ${parts.join(" ")}${more > 0 ? ` and ${more} more process${more === 1 ? "" : "es"}` : ""}`;
}

/** The rule's text without a holder, then the holder (when one is known). */
export function withHolder(reason: string, holder: string | undefined): string {
  const at = reason.indexOf(HELD_BY);
  const base = at < 0 ? reason : reason.slice(0, at);
  return holder === undefined ? base : `${base}; ${holder}`;
}

function duration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  if (m < 60) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

function memory(mib: number): string {
  return mib >= 1024 ? `${Math.round(mib / 1024)} GiB` : `${mib} MiB`;
}
