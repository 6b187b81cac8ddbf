// Ingest counters for /metrics and the bench: plain numbers and a fixed-bucket latency histogram
// (Prometheus-style cumulative buckets, so it is exposed as is and quantiles are estimated from it).
import type { RejectReason } from "./reasons.js";

/** Upper bounds in milliseconds; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
] as const;

export class LatencyHistogram {
  /** counts[i] = observations <= LATENCY_BUCKETS_MS[i]; the last slot is +Inf (not cumulative). */
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  count = 0;
  sumMs = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > (LATENCY_BUCKETS_MS[i] ?? 0)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count += 1;
    this.sumMs += ms;
  }

  /** Cumulative counts per bucket bound, +Inf last (for the Prometheus exposition). */
  cumulative(): { le: number; count: number }[] {
    let total = 0;
    return this.counts.map((n, i) => {
      total += n;
      return { le: LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY, count: total };
    });
  }

  /** Estimated quantile (linear within the bucket); undefined before any observation. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    let below = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const n = this.counts[i] ?? 0;
      if (below + n >= rank && n > 0) {
        const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
        const upper = LATENCY_BUCKETS_MS[i] ?? lower * 2;
        return lower + ((upper - lower) * (rank - below)) / n;
      }
      below += n;
    }
    return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
  }
}

export interface IngestStatsSnapshot {
  messages: number;
  framesStored: number;
  framesDuplicate: number;
  eventsStored: number;
  eventsDuplicate: number;
  statuses: number;
  inventories: number;
  rejects: Partial<Record<RejectReason, number>>;
  commits: number;
  storeFailures: number;
  /** Messages refused because the queue was full (clients re-send them). */
  overloaded: number;
  queueDepth: number;
  storeFailing: boolean;
  commitLatencyP50Ms: number | undefined;
  commitLatencyP99Ms: number | undefined;
  /** Per host: the frames its agent's spool has dropped, as its newest committed frame says. */
  agentSpoolDropped: Record<string, number>;
}

export class IngestStats {
  messages = 0;
  framesStored = 0;
  framesDuplicate = 0;
  eventsStored = 0;
  eventsDuplicate = 0;
  statuses = 0;
  inventories = 0;
  commits = 0;
  storeFailures = 0;
  overloaded = 0;
  readonly rejects = new Map<RejectReason, number>();
  /** Submit to commit, per message. */
  readonly commitLatency = new LatencyHistogram();
  /** Per host: frames_dropped of the newest frame committed (a replayed backlog is older). */
  private readonly spoolDropped = new Map<string, { timestampMs: number; dropped: number }>();

  /** frames_dropped is the agent spool's count over its life: the newest frame's value is current. */
  noteSpoolDropped(host: string, timestampMs: number, dropped: number): void {
    const seen = this.spoolDropped.get(host);
    if (seen === undefined || timestampMs >= seen.timestampMs)
      this.spoolDropped.set(host, { timestampMs, dropped });
  }

  countReject(reason: RejectReason): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }

  snapshot(queueDepth: number, storeFailing: boolean): IngestStatsSnapshot {
    return {
      messages: this.messages,
      framesStored: this.framesStored,
      framesDuplicate: this.framesDuplicate,
      eventsStored: this.eventsStored,
      eventsDuplicate: this.eventsDuplicate,
      statuses: this.statuses,
      inventories: this.inventories,
      rejects: Object.fromEntries(this.rejects),
      commits: this.commits,
      storeFailures: this.storeFailures,
      overloaded: this.overloaded,
      queueDepth,
      storeFailing,
      commitLatencyP50Ms: this.commitLatency.quantile(0.5),
      commitLatencyP99Ms: this.commitLatency.quantile(0.99),
      agentSpoolDropped: Object.fromEntries([...this.spoolDropped].map(([host, v]) => [host, v.dropped])),
    };
  }
}
