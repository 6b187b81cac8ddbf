// Compares what agents sampled (their "Frame sampled" log lines) with what the collector's
// SQLite holds. Stored frames come from frame_seen (the seq ranges per host and boot); exactly-once
// is checked independently through the 1-minute rollups: every GPU entry of a stored frame is one
// rollup sample, so more rollup samples than GPU entries means a frame was counted twice.
import Database from "better-sqlite3";
import { Store } from "../../../collector/store/store.js";
import type { Sampled } from "./agent-proc.js";

/** host → boot_id → seqs present in frame_seen. Opens the file read-only (the collector may run). */
export function readSeen(dbPath: string): Map<string, Map<string, Set<number>>> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        "SELECT hosts.name AS host, frame_seen.boot_id AS boot, frame_seen.ranges AS ranges FROM frame_seen JOIN hosts ON hosts.id = frame_seen.host_id",
      )
      .all() as { host: string; boot: string; ranges: string }[];
    const seen = new Map<string, Map<string, Set<number>>>();
    for (const row of rows) {
      let boots = seen.get(row.host);
      if (!boots) {
        boots = new Map();
        seen.set(row.host, boots);
      }
      boots.set(row.boot, expandRanges(row.ranges));
    }
    return seen;
  } finally {
    db.close();
  }
}

export function expandRanges(text: string): Set<number> {
  const seqs = new Set<number>();
  for (const part of text.split(",")) {
    if (part === "") continue;
    const [lo, hi] = part.split("-").map(Number);
    if (lo === undefined || hi === undefined) continue;
    for (let s = lo; s <= hi; s++) seqs.add(s);
  }
  return seqs;
}

/** Frames stored for these hosts (all boots), counted from frame_seen. */
export function storedCount(dbPath: string, hosts: readonly string[]): number {
  const seen = readSeen(dbPath);
  let n = 0;
  for (const host of hosts) for (const seqs of seen.get(host)?.values() ?? []) n += seqs.size;
  return n;
}

/**
 * host → rollup samples over all its GPUs (1-minute tier). Opens the Store (the collector must be
 * stopped): rollup deltas of open windows live in memory until sealed, so seal everything first.
 */
export function rollupSamplesPerHost(dbPath: string): Map<string, number> {
  const store = Store.open(dbPath);
  try {
    store.sealAll();
    const rows = store.db
      .prepare(
        `SELECT h.name AS host, sum(r.samples) AS samples FROM rollups r
         JOIN gpus g ON g.id = r.gpu_id JOIN hosts h ON h.id = g.host_id
         WHERE r.step_ms = 60000 GROUP BY h.name`,
      )
      .all() as { host: string; samples: number }[];
    return new Map(rows.map((r) => [r.host, r.samples]));
  } finally {
    store.close();
  }
}

export interface AgentAudit {
  host: string;
  sampled: number;
  stored: number;
  /** Sampled but not in the database. */
  missing: number;
  /** The missing seqs per boot (for messages). */
  missingSeqs: Map<string, number[]>;
  /** Stored frames this agent never logged (e.g. a log line lost at SIGKILL). */
  unlogged: number;
  /** GPU entries of the stored frames (what the rollups should count once). */
  gpuEntries: number;
}

export function auditAgent(
  host: string,
  sampled: Sampled,
  seen: Map<string, Map<string, Set<number>>>,
): AgentAudit {
  const boots = seen.get(host) ?? new Map<string, Set<number>>();
  const audit: AgentAudit = {
    host,
    sampled: 0,
    stored: 0,
    missing: 0,
    missingSeqs: new Map(),
    unlogged: 0,
    gpuEntries: 0,
  };
  for (const [boot, seqs] of sampled.boots) {
    const stored = boots.get(boot) ?? new Set<number>();
    const gpus = sampled.gpus.get(boot);
    const logged = new Set(seqs);
    audit.sampled += logged.size;
    for (const seq of logged) {
      if (stored.has(seq)) {
        audit.stored += 1;
        audit.gpuEntries += gpus?.get(seq) ?? 0;
      } else {
        audit.missing += 1;
        const list = audit.missingSeqs.get(boot) ?? [];
        list.push(seq);
        audit.missingSeqs.set(boot, list);
      }
    }
    for (const seq of stored) if (!logged.has(seq)) audit.unlogged += 1;
  }
  for (const [boot, stored] of boots) if (!sampled.boots.has(boot)) audit.unlogged += stored.size;
  return audit;
}

/** "1-3,7" for messages. */
export function formatSeqs(seqs: readonly number[]): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
