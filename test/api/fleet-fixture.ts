// A small real fleet for the query-surface tests: a real Store (SQLite file in a temp dir)
// filled through writeFrames/writeInventory, and a real FlagEngine fed the same frames, so
// idle, idle-held and overheat flags are raised by the rules themselves. Host 0's GPU 3 runs
// at 90 °C against an 87 °C slowdown temperature: an open overheat flag.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { resolveFlagsConfig } from "../../collector/flags/config.js";
import { FlagEngine } from "../../collector/flags/engine.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { Store } from "../../collector/store/store.js";
import { GpuState, type IGpuSample } from "../../shared/proto.js";

export interface FleetFixture {
  dir: string;
  store: Store;
  flags: FlagEngine;
  backend: StoreBackend;
  nowMs: number;
  hosts: string[];
  gpusPerHost: number;
  /** The overheated GPU's UUID. */
  hotUuid: string;
  close(): void;
}

export function gpuUuid(h: number, i: number): string {
  return `GPU-${String(h).padStart(4, "0")}aaaa-bbbb-cccc-dddd-${String(i).padStart(12, "0")}`;
}

type Profile = "busy" | "idle" | "idle_held" | "hot";

function profile(h: number, i: number): Profile {
  if ((h === 0 || h === 3) && i === 3) return "hot";
  return (["busy", "idle", "idle_held", "busy"] as const)[i % 4] ?? "busy";
}

function sample(h: number, i: number, k: number): IGpuSample {
  const p = profile(h, i);
  const busy = p === "busy" || p === "hot";
  const held = busy || p === "idle_held";
  const temp = p === "hot" ? 90 : busy ? 68 + ((k + i) % 5) : 35;
  return {
    index: i,
    uuid: gpuUuid(h, i),
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: busy ? 90 + ((k * 7 + i) % 10) : 0,
    utilization_memory_pct: busy ? 45 : 0,
    memory_used_mib: held ? 60_000 : 1,
    memory_total_mib: 81_559,
    temperature_gpu_celsius: temp,
    temperature_memory_celsius: temp + 4,
    power_draw_watts: busy ? 600 + (k % 20) : 70.5,
    power_limit_watts: 700,
    clocks_sm_mhz: busy ? 1980 : 345,
    clocks_memory_mhz: 2619,
    pstate: busy ? 0 : 8,
    clock_event_reasons: busy ? 0 : 1,
    compute_processes: held ? 1 : 0,
    compute_memory_mib: held ? 59_000 : 0,
    mig_mode: false,
  };
}

export function buildFleet(
  options: {
    hosts?: number;
    gpusPerHost?: number;
    hours?: number;
    intervalMs?: number;
    firstHost?: number;
  } = {},
): FleetFixture {
  const first = options.firstHost ?? 0;
  const hostCount = options.hosts ?? 3;
  const gpusPerHost = options.gpusPerHost ?? 4;
  const intervalMs = options.intervalMs ?? 10_000;
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const startMs = nowMs - (options.hours ?? 3) * 3_600_000;
  const dir = mkdtempSync(join(tmpdir(), "gputel-api-"));
  const store = Store.open(join(dir, "collector.db"), { now: () => nowMs });
  const flags = new FlagEngine({
    store: new FlagStore(store.db),
    config: resolveFlagsConfig(),
    now: () => nowMs,
  });
  flags.start();
  const hosts = Array.from({ length: hostCount }, (_, h) => `node-${String.fromCharCode(97 + first + h)}`);
  hosts.forEach((host, n) => {
    const h = n + first;
    const inventory = {
      host,
      timestamp_ms: startMs,
      driver_version: "550.54.15",
      site: h % 2 === 0 ? "fra1" : "ams2",
      labels: { customer: h % 2 === 0 ? "acme" : "globex", "rack-id": `r${h}` },
      gpus: Array.from({ length: gpusPerHost }, (_, i) => ({
        index: i,
        uuid: gpuUuid(h, i),
        name: "NVIDIA H100 80GB HBM3",
        serial: `16523${h}${i}`,
        vbios_version: "96.00.99.00.01",
        pci_bus_id: `00000000:${String(i + 10)}:00.0`,
        temperature_slowdown_celsius: 87,
        temperature_shutdown_celsius: 92,
        temperature_memory_max_celsius: 95,
        power_default_limit_watts: 700,
      })),
    };
    store.writeInventory(inventory, startMs);
    flags.onInventory(inventory, startMs);
  });
  const frames = Math.floor((nowMs - startMs) / intervalMs);
  let batch: ValidFrame[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const last = batch[batch.length - 1] as ValidFrame;
    store.writeFrames(batch, last.timestamp_ms);
    flags.onFrames(batch, last.timestamp_ms);
    batch = [];
  };
  for (let k = 1; k <= frames; k++) {
    const ts = startMs + k * intervalMs;
    hosts.forEach((host, n) => {
      const h = n + first;
      batch.push({
        host,
        boot_id: `boot-${h}`,
        seq: k,
        timestamp_ms: ts,
        interval_ms: intervalMs,
        site: h % 2 === 0 ? "fra1" : "ams2",
        labels: { customer: h % 2 === 0 ? "acme" : "globex", "rack-id": `r${h}` },
        gpus: Array.from({ length: gpusPerHost }, (_, i) => sample(h, i, k)),
      });
    });
    if (batch.length >= 300) flush();
  }
  flush();
  const backend = new StoreBackend({ store, flags, now: () => nowMs });
  return {
    dir,
    store,
    flags,
    backend,
    nowMs,
    hosts,
    gpusPerHost,
    hotUuid: gpuUuid(first, 3),
    close() {
      flags.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
