// The holder an idle-held flag names: "held by pid 4121 python3 (user alice, pod uid 1a2b…,
// Slurm job 88123) for 3 h with 41 GiB". Pure. The biggest holder by memory is named; with several,
// each one's share of the memory they hold is given (the GPU memory a process uses is all the
// sessions know of it), the next biggest listed by pid and user up to MAX_LISTED, the rest
// counted: "… with 41 GiB (82% of 50 GiB held) and 2 more processes (pid 7 user bob 16%, pid 9
// 2%)". The reason is the rule's own text and then this, after "; ", so a later update of the
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

/** Other holders listed with their shares; past them, only counted (a flag's sentence stays short). */
const MAX_LISTED = 3;

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
  const others = sorted.slice(1);
  // Shares only with several holders and some memory known: a lone holder's would read 100%.
  const heldMib = sorted.reduce((sum, s) => sum + (s.memoryMib ?? 0), 0);
  const share = (mib: number | null) =>
    others.length > 0 && heldMib > 0 && mib !== null ? percent(mib / heldMib) : undefined;
  if (top.memoryMib !== null) {
    const ofHeld = share(top.memoryMib);
    parts.push(`with ${memory(top.memoryMib)}${ofHeld ? ` (${ofHeld} of ${memory(heldMib)} held)` : ""}`);
  }
  if (others.length === 0) return `held by ${parts.join(" ")}`;
  const listed = others.slice(0, MAX_LISTED).map((s) => {
    const of = share(s.memoryMib);
    return [`pid ${s.pid}`, s.user ? `user ${s.user}` : undefined, of].filter(Boolean).join(" ");
  });
  const unlisted = others.length - listed.length;
  if (unlisted > 0) listed.push(`${unlisted} more`);
  const more = `${others.length} more process${others.length === 1 ? "" : "es"}`;
  return `held by ${parts.join(" ")} and ${more} (${listed.join(", ")})`;
}

/** A share as a whole percent; one under 1% is not 0. */
function percent(fraction: number): string {
  const p = Math.round(fraction * 100);
  return p === 0 && fraction > 0 ? "<1%" : `${p}%`;
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
