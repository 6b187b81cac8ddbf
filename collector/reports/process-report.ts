// GPU-hours and idle-held hours by user, Slurm job, pod or container, from process sessions and
// idle-held flag episodes. Pure. A session counts for the time it was seen (first to last sight)
// inside the range: GPU-hours held, so two processes on one GPU count twice (each held it). Its
// idle-held hours are that time overlapping an idle-held episode of the same GPU: the time the
// holder kept the GPU allocated while nothing computed.

export const PROCESS_GROUPS = ["user", "job", "pod", "container"] as const;
export type ProcessGroup = (typeof PROCESS_GROUPS)[number];

export interface ReportSession {
  gpuUuid: string;
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

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export function processReport(
  sessions: readonly ReportSession[],
  idle: readonly IdleSpan[],
  range: { fromMs: number; toMs: number },
  by: ProcessGroup,
): ProcessReport {
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
  for (const s of sessions) {
    const from = Math.max(s.firstSeenMs, range.fromMs);
    const to = Math.min(s.lastSeenMs, range.toMs);
    if (to < from) continue;
    const key = keyOf(s, by);
    const g = groups.get(key) ?? { sessions: 0, gpus: new Set<string>(), held: 0, idle: 0 };
    g.sessions += 1;
    g.gpus.add(s.gpuUuid);
    g.held += to - from;
    for (const span of idleByGpu.get(s.gpuUuid) ?? [])
      g.idle += overlap(from, to, span.startMs, span.endMs ?? range.toMs);
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
