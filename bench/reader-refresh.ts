// The read worker's snapshot refresh (docs/design.md §5): reports, the summary's range usage and
// the other heavy reads run on a read-only connection whose memory (registry, unsealed samples,
// deltas) is rebuilt from the database whenever the writer committed since its last snapshot,
// at most every SNAPSHOT_MS. `api.reader_refresh_10k_gpus_ms` is that rebuild alone, on a fleet
// of 10,000 GPUs (smoke: 512) that each sent a frame every 10 s for the last 10 minutes (the
// default raw window, all of it unsealed), after one more frame was written: what the first
// report after a snapshot expires waits for on a live collector, before its own reading.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../collector/store/store.js";
import { frame } from "./api.js";
import { type BenchFigure, median } from "./common.js";
import { fillFleet } from "./report.js";

const GPUS_PER_HOST = 8;
const INTERVAL_MS = 10_000;
const WINDOW_MS = 600_000;

export async function benchReaderRefresh(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const gpus = size === "full" ? 10_000 : 512;
  const hosts = gpus / GPUS_PER_HOST;
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-reader-"));
  const path = join(dir, "collector.db");
  const store = Store.open(path);
  try {
    const { toMs } = fillFleet(store, gpus, 1);
    let k = 0;
    const writeRound = (ts: number) => {
      store.writeFrames(
        Array.from({ length: hosts }, (_, h) => frame(h, k, ts, INTERVAL_MS)),
        ts + 1000,
      );
      k += 1;
    };
    for (let ts = toMs - WINDOW_MS; ts < toMs; ts += INTERVAL_MS) writeRound(ts);
    const reader = Store.openReader(path);
    try {
      reader.read(() => 0); // the first snapshot: as the worker starts
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        writeRound(toMs + i * INTERVAL_MS);
        const t = performance.now();
        reader.read(() => 0);
        times.push(performance.now() - t);
      }
      const suffix = size === "full" ? "10k_gpus" : "512_gpus";
      return [
        {
          name: `api.reader_refresh_${suffix}_ms`,
          value: Math.round(median(times) * 10) / 10,
          unit: `ms (read worker's snapshot rebuild after a write: ${gpus} GPUs, a frame every 10 s, 10 min unsealed)`,
        },
      ];
    } finally {
      reader.close();
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
