// The store bench's workload, shared with the side-by-side bench (bench/peer.ts) so both stores
// receive exactly the same samples: a SynthFleet of hosts x 8 GPUs at 1 s, written in batches of
// 250 frames with a retention step every 10 s of simulated time, as the collector would.
import type { ValidFrame } from "../collector/ingest/validate.js";
import type { Store } from "../collector/store/store.js";
import { SynthFleet } from "./synth-fleet.js";

export interface FleetWorkload {
  hosts: number;
  seconds: number;
  seed: number;
}

/** "full": one day of 4 hosts x 8 GPUs (2.76 M GPU samples); "smoke": 2 hours of 2 hosts x 8. */
export function storeWorkload(size: "full" | "smoke"): FleetWorkload {
  return size === "full" ? { hosts: 4, seconds: 86_400, seed: 7 } : { hosts: 2, seconds: 7_200, seed: 7 };
}

/** A fresh fleet: the same options give the same frames, sample for sample. */
export function workloadFleet(w: FleetWorkload): SynthFleet {
  return new SynthFleet({ hosts: w.hosts, gpusPerHost: 8, seed: w.seed });
}

/** Writes the workload into the store; returns the milliseconds spent inside writeFrames. */
export function writeWorkload(store: Store, w: FleetWorkload): { fleet: SynthFleet; writeMs: number } {
  const fleet = workloadFleet(w);
  const batchFrames = 250;
  let writeMs = 0;
  let batch: ValidFrame[] = [];
  const flush = () => {
    const last = batch[batch.length - 1];
    if (!last) return;
    const t0 = performance.now();
    store.writeFrames(batch, last.timestamp_ms + 50);
    writeMs += performance.now() - t0;
    batch = [];
  };
  let lastPrune = 0;
  for (const frame of fleet.frames(0, w.seconds)) {
    batch.push(frame);
    if (batch.length >= batchFrames) {
      const now = frame.timestamp_ms;
      flush();
      if (now - lastPrune >= 10_000) {
        store.pruneStep(now);
        lastPrune = now;
      }
    }
  }
  flush();
  return { fleet, writeMs };
}
