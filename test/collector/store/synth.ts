// Helpers for store tests: a temp-dir SQLite store, an ingest pipeline into it, hand-built frames,
// and the synthetic fleet shared with the benches (bench/synth-fleet.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import { Store, type StoreOptions } from "../../../collector/store/store.js";
import { silentLogger } from "../../../shared/logger.js";
import type { IGpuSample } from "../../../shared/proto.js";
import { GpuState } from "../../../shared/proto.js";

export { rng, SynthFleet } from "../../../bench/synth-fleet.js";

export interface TempStore {
  dir: string;
  path: string;
  open(options?: StoreOptions): Store;
  cleanup(): void;
}

export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "gputel-store-"));
  const path = join(dir, "collector.db");
  const opened: Store[] = [];
  return {
    dir,
    path,
    open(options = {}) {
      const store = Store.open(path, options);
      opened.push(store);
      return store;
    },
    cleanup() {
      for (const s of opened) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A started ingest pipeline writing into `store`, on the clock `now` (stop it when done). */
export function storePipeline(store: Store, now: () => number): IngestPipeline {
  const pipeline = new IngestPipeline({ sink: store, logger: silentLogger(), fleet: store.fleet, now });
  pipeline.start();
  return pipeline;
}

export const T0 = Date.UTC(2026, 0, 1);

export function gpu(index: number, values: Partial<IGpuSample> = {}): IGpuSample {
  return { index, uuid: `GPU-test-${index}`, state: GpuState.GPU_STATE_OK, ...values };
}

export function frame(
  seq: number,
  ts: number,
  gpus: IGpuSample[],
  extra: Partial<ValidFrame> = {},
): ValidFrame {
  return {
    host: "node-a",
    boot_id: "boot-1",
    seq,
    timestamp_ms: ts,
    interval_ms: 1000,
    site: "fra1",
    labels: { customer: "acme" },
    gpus,
    ...extra,
  };
}
