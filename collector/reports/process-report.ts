// GPU-hours and idle-held hours by user, Slurm job, pod or container, from process sessions and
// idle-held flag episodes. Pure. A session counts for the time it was seen (first to last sight)
// inside the range: GPU-hours held, so two processes on one GPU count twice (each held it). Its
// idle-held hours are that time overlapping an idle-held episode of the same GPU: the time the
// holder kept the GPU allocated while nothing computed. A tenant's pieces of one session (one per
// stay of its own, or per collector holding one of its leases) are one process: counted once, over
// the union of their times.

export const PROCESS_GROUPS = ["user", "job", "pod", "container"] as const;
export type ProcessGroup = (typeof PROCESS_GROUPS)[number];

/** A process session (or a tenant's piece of one): its identity, what it is grouped by, when it was seen. */
export interface ReportSession {
  host: string;
  gpuUuid: string;
  migUuid: string | null;
  pid: number;
  startMs: number | null;
  user: string | null;
  jobId: string | null;
  podUid: string | null;
  containerId: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface IdleSpan {
  gpuUuid: string;
  startMs: number;
  /** null: still open (counted up to the range's end). */
  endMs: number | null;
}

export interface ProcessReportRow {
  /** The user, job id, pod UID or container id; null for sessions without one. */
  key: string | null;
  sessions: number;
  gpus: number;
  gpuHours: number;
  idleHeldHours: number;
}

export interface ProcessReport {
  fromMs: number;
  toMs: number;
  by: ProcessGroup;
  rows: ProcessReportRow[];
  /**
   * True: a collector's range held more sessions than it reads for a report (200,000, those seen
   * last kept): the rows leave the earlier ones out. A shorter range reads them all.
   */
  truncated: boolean;
}

const HOUR = 3_600_000;

function keyOf(s: ReportSession, by: ProcessGroup): string | null {
  switch (by) {
    case "user":
      return s.user;
    case "job":
      return s.jobId;
    case "pod":
      return s.podUid;
    case "container":
      return s.containerId;
  }
}

/** Which process a session (or a piece of one) is: host, GPU, MIG device, pid and process start. */
export function sessionIdentity(
  s: Pick<ReportSession, "host" | "gpuUuid" | "migUuid" | "pid" | "startMs">,
): string {
  return `${s.host}\u0000${s.gpuUuid}\u0000${s.migUuid ?? ""}\u0000${s.pid}\u0000${s.startMs ?? ""}`;
}

/**
 * Each session's spans inside the range (its own, or its pieces' [first, last sight]), joined where
 * they overlap or touch: a piece ends at the last instant of its stay, so the next stay's piece,
 * starting 1 ms later, continues it.
 */
function seenSpans(
  sessions: readonly ReportSession[],
  range: { fromMs: number; toMs: number },
): { session: ReportSession; spans: [number, number][] }[] {
  const byIdentity = new Map<string, { session: ReportSession; spans: [number, number][] }>();
  for (const s of sessions) {
    const from = Math.max(s.firstSeenMs, range.fromMs);
    const to = Math.min(s.lastSeenMs, range.toMs);
    if (to < from) continue;
    const key = sessionIdentity(s);
    const seen = byIdentity.get(key) ?? { session: s, spans: [] };
    seen.spans.push([from, to]);
    byIdentity.set(key, seen);
  }
  for (const seen of byIdentity.values()) {
    const joined: [number, number][] = [];
    for (const [from, to] of seen.spans.sort((a, b) => a[0] - b[0])) {
      const last = joined[joined.length - 1];
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else joined.push([from, to]);
    }
    seen.spans = joined;
  }
  return [...byIdentity.values()];
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export function processReport(
  sessions: readonly ReportSession[],
  idle: readonly IdleSpan[],
  range: { fromMs: number; toMs: number },
  by: ProcessGroup,
): Omit<ProcessReport, "truncated"> {
  const idleByGpu = new Map<string, IdleSpan[]>();
  for (const span of idle) {
    const list = idleByGpu.get(span.gpuUuid) ?? [];
    list.push(span);
    idleByGpu.set(span.gpuUuid, list);
  }
  const groups = new Map<
    string | null,
    { sessions: number; gpus: Set<string>; held: number; idle: number }
  >();
  for (const { session: s, spans } of seenSpans(sessions, range)) {
    const key = keyOf(s, by);
    const g = groups.get(key) ?? { sessions: 0, gpus: new Set<string>(), held: 0, idle: 0 };
    g.sessions += 1;
    g.gpus.add(s.gpuUuid);
    for (const [from, to] of spans) {
      g.held += to - from;
      for (const span of idleByGpu.get(s.gpuUuid) ?? [])
        g.idle += overlap(from, to, span.startMs, span.endMs ?? range.toMs);
    }
    groups.set(key, g);
  }
  const round = (ms: number) => Math.round((ms / HOUR) * 1000) / 1000;
  const rows = [...groups.entries()]
    .map(([key, g]) => ({
      key,
      sessions: g.sessions,
      gpus: g.gpus.size,
      gpuHours: round(g.held),
      idleHeldHours: round(g.idle),
    }))
    .sort((a, b) => b.gpuHours - a.gpuHours || String(a.key).localeCompare(String(b.key)));
  return { fromMs: range.fromMs, toMs: range.toMs, by, rows };
}
