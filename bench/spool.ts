// Spool benchmarks (issue 7): how fast the agent's on-disk spool takes frames and lets them go.
//   spool.append_ack_per_s          live path: append, hand out, ack, one frame at a time (each its own
//                                   transaction, WAL, synchronous=NORMAL), 600-byte payloads (8-GPU frame)
//   spool.backlog_drain_frames_per_s backlog path: nextBacklog batches (rate limit off) and their acks
//   spool.open_ms                   reopening a spool of 100,000 frames (60 MB), integrity check included
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Spool } from "../agent/spool/spool.js";
import { silentLogger } from "../shared/logger.js";
import type { BenchFigure } from "./common.js";

const PAYLOAD_BYTES = 600;
const LIVE_FRAMES = 20_000;
const BACKLOG_FRAMES = 100_000;

export async function benchSpool(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-spool-"));
  const path = join(dir, "spool.db");
  const payload = randomBytes(PAYLOAD_BYTES);
  const frame = (seq: number) => ({ seq, bootId: "bench", timestampMs: seq * 1000, payload });
  const unlimited = { framesPerSecond: 1e12, maxFrames: 200 };
  try {
    let spool = Spool.open({ path, logger: silentLogger(), backlog: unlimited });
    spool.reconnected();
    let start = performance.now();
    for (let seq = 1; seq <= LIVE_FRAMES; seq += 1) {
      spool.append(frame(seq));
      const [entry] = spool.nextLive(1);
      if (entry) spool.ack([entry.id]);
    }
    const liveRate = LIVE_FRAMES / ((performance.now() - start) / 1000);

    for (let seq = 1; seq <= BACKLOG_FRAMES; seq += 1) spool.append(frame(seq));
    spool.close();
    start = performance.now();
    spool = Spool.open({ path, logger: silentLogger(), backlog: unlimited });
    const openMs = performance.now() - start;

    spool.reconnected();
    start = performance.now();
    let drained = 0;
    for (let poll = spool.nextBacklog(); poll.kind !== "empty"; poll = spool.nextBacklog()) {
      if (poll.kind === "wait") continue;
      drained += spool.ack(poll.entries.map((e) => e.id));
    }
    const drainRate = drained / ((performance.now() - start) / 1000);
    spool.close();
    return [
      { name: "spool.append_ack_per_s", value: Math.round(liveRate), unit: "frames/s" },
      { name: "spool.backlog_drain_frames_per_s", value: Math.round(drainRate), unit: "frames/s" },
      { name: "spool.open_ms", value: Math.round(openMs), unit: "ms" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
