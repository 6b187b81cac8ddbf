// A real Store (SQLite file in a temp dir) that knows a few GPUs, written through writeFrames as
// an agent's frames would be.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { Lease } from "../../../collector/leases/model.js";
import { Store } from "../../../collector/store/store.js";
import { GpuState } from "../../../shared/proto.js";

export interface LeaseTestStore {
  store: Store;
  path: string;
  close(): void;
}

export function frameFor(
  host: string,
  uuids: readonly string[],
  ms: number,
  seq = 1,
  labels: Record<string, string> = {},
): ValidFrame {
  return {
    host,
    boot_id: "boot-1",
    seq,
    timestamp_ms: ms,
    interval_ms: 1000,
    site: "lab",
    labels,
    gpus: uuids.map((uuid, index) => ({
      index,
      uuid,
      state: GpuState.GPU_STATE_OK,
      utilization_gpu_pct: 50,
    })),
  } as ValidFrame;
}

export function openLeaseStore(
  uuids: readonly string[],
  atMs = Date.parse("2026-11-01T00:00:00Z"),
): LeaseTestStore {
  const dir = mkdtempSync(join(tmpdir(), "gputel-leases-"));
  const path = join(dir, "collector.db");
  const store = Store.open(path);
  if (uuids.length > 0) store.writeFrames([frameFor("host-a", uuids, atMs)], atMs);
  return {
    store,
    path,
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A whole-GPU lease record as the store keeps it: no price, commitment or labels unless given. */
export function leaseRecord(
  fields: Pick<Lease, "id" | "gpu" | "tenant" | "startMs" | "endMs"> & Partial<Lease>,
): Lease {
  return {
    device: fields.gpu,
    contract: null,
    priceMicros: null,
    currency: null,
    availabilityMilli: null,
    labels: {},
    source: "api",
    ...fields,
  };
}
