// A small fleet with 30 days of history, written through the store's own write path
// (writeFrames; frames older than the raw retention go straight into the 1-minute rollups),
// for the read-worker tests. With only a 1-minute tier a 30-day report reads every minute row,
// so a small fleet already gives a report that takes a while.

import type { ValidFrame } from "../../collector/ingest/validate.js";
import { Store } from "../../collector/store/store.js";
import type { IGpuSample } from "../../shared/proto.js";
import { GpuState } from "../../shared/proto.js";

export const FLEET_RETENTION = ["2h:raw", "40d:1m"];
export const DAY = 86_400_000;

export interface FleetShape {
  hosts: number;
  gpusPerHost: number;
  days: number;
  stepMs: number;
}

/** GPU i of every host is busy when i is even, idle otherwise: busy share 50 % (odd counts aside). */
function sample(host: string, index: number): IGpuSample {
  const busy = index % 2 === 0;
  return {
    index,
    uuid: `GPU-${host}-${index}`,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: busy ? 90 : 0,
    memory_used_mib: busy ? 40_000 : 1,
    memory_total_mib: 81_559,
    compute_processes: busy ? 1 : 0,
    temperature_gpu_celsius: busy ? 70 : 35,
    power_draw_watts: busy ? 500 : 60,
  };
}

/** Writes the fleet's history ending at endMs; returns how many frames went in. */
export function fillFleet(path: string, shape: FleetShape, endMs: number): number {
  const store = Store.open(path, { retention: FLEET_RETENTION });
  let frames = 0;
  try {
    const start = endMs - shape.days * DAY;
    for (let h = 0; h < shape.hosts; h++) {
      const host = `node-${String(h).padStart(3, "0")}`;
      const gpus = Array.from({ length: shape.gpusPerHost }, (_, i) => sample(host, i));
      let batch: ValidFrame[] = [];
      let seq = 1;
      for (let ts = start; ts < endMs - 3 * 3_600_000; ts += shape.stepMs) {
        batch.push({
          host,
          boot_id: "boot-fill",
          seq: seq++,
          timestamp_ms: ts,
          interval_ms: shape.stepMs,
          site: h % 2 === 0 ? "fra1" : "ams1",
          labels: { customer: h % 2 === 0 ? "acme" : "globex" },
          gpus,
        });
        if (batch.length === 500) {
          frames += store.writeFrames(batch, endMs).stored;
          batch = [];
        }
      }
      if (batch.length > 0) frames += store.writeFrames(batch, endMs).stored;
    }
    store.sealAll();
  } finally {
    store.close();
  }
  return frames;
}
