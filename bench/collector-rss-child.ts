// The process bench/collector-rss.ts measures (bundled by esbuild, run by plain node so no
// TypeScript runner sits in the figure): the collector's stateful parts for N GPUs at 1 s, the
// Store (open windows, rollup deltas, registry, SQLite page cache) and the FlagEngine (rule
// state per GPU), fed in 1-second batches as the ingest pipeline would commit them, with the
// retention step every 10 s. Prints one JSON line: RSS now, peak RSS, heap used; then the same
// with the read threads' stores loaded (collector/api/read-workers.ts: each thread opens one
// with Store.openReader and loads a snapshot when first asked), opened here on this thread
// (what a worker thread's own V8 heap adds, about 10 MB each, is not in the figure).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readThreads } from "../collector/api/read-workers.js";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../collector/flags/config.js";
import { FlagEngine } from "../collector/flags/engine.js";
import { Store } from "../collector/store/store.js";
import { SynthFleet } from "./synth-fleet.js";

function statusMb(field: string): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

const gpus = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 660);
const migrationsDir = process.argv[4];
const dir = mkdtempSync(join(tmpdir(), "gputel-bench-rss-"));
try {
  const store = Store.open(join(dir, "rss.db"), { migrationsDir });
  const flags = new FlagEngine({
    store: store.flagStore(),
    config: resolveFlagsConfig(DEFAULT_FLAGS_CONFIG),
  });
  flags.start();
  const hosts = Math.ceil(gpus / 8);
  const startMs = Date.now() - (seconds + 60) * 1000;
  const fleet = new SynthFleet({ hosts, gpusPerHost: 8, seed: 13, startMs });
  for (let k = 0; k < seconds; k++) {
    const frames = [...fleet.frames(k, k + 1)];
    const nowMs = startMs + k * 1000 + 50;
    store.writeFrames(frames, nowMs);
    flags.onFrames(frames, nowMs);
    if (k % 10 === 9) for (let more = true; more; ) more = store.pruneStep(nowMs).more;
  }
  const unsealed = store.stats();
  flags.stop();
  const without = {
    rssMb: statusMb("VmRSS"),
    anonMb: statusMb("RssAnon"),
    peakMb: statusMb("VmHWM"),
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
  const readers = Array.from({ length: readThreads() }, () => Store.openReader(join(dir, "rss.db")));
  for (const reader of readers) reader.read(() => reader.latest().length);
  process.stdout.write(
    `${JSON.stringify({
      rssMb: without.rssMb,
      anonMb: without.anonMb,
      readThreads: readers.length,
      withReadersRssMb: statusMb("VmRSS"),
      withReadersAnonMb: statusMb("RssAnon"),
      peakMb: without.peakMb,
      heapMb: without.heapMb,
      externalMb: process.memoryUsage().external / 2 ** 20,
      arrayBuffersMb: process.memoryUsage().arrayBuffers / 2 ** 20,
      gpus: store.latest().length,
      samples: unsealed.samplesStored,
    })}\n`,
  );
  for (const reader of readers) reader.close();
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
