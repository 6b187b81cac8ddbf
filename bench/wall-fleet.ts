// A 10,000-GPU fleet as an operator's wall screen sees it (issue 18), for the dashboard's browser
// test and bench: 1,250 hosts × 8 GPUs on four sites, 128 racks of up to 10 hosts, 16 customers, filled
// through the store (inventories, then two frames per host for the latest values), with ~2,400
// open flags inserted through the flag store: 157 overheat (one whole rack of 80 GPUs at 95 °C,
// the hottest rack, and 77 GPUs at 88 °C elsewhere), a few lost and throttled, the rest idle and
// idle-held, so newest-first lists would hide the overheat flags.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreBackend } from "../collector/api/store-backend.js";
import { resolveFlagsConfig } from "../collector/flags/config.js";
import { FlagEngine } from "../collector/flags/engine.js";
import type { FlagKind, Severity } from "../collector/flags/types.js";
import type { ValidFrame } from "../collector/ingest/validate.js";
import { FlagStore } from "../collector/store/flag-store.js";
import { Store } from "../collector/store/store.js";
import { GpuState, type IGpuSample } from "../shared/proto.js";
import { rng } from "./synth-fleet.js";

export const WALL_SITES = ["ams2", "fra1", "lon1", "par1"] as const;
const GPUS_PER_HOST = 8;
const HOSTS_PER_RACK = 10;

export interface WallFleet {
  backend: StoreBackend;
  store: Store;
  flags: FlagEngine;
  nowMs: number;
  hosts: number;
  gpus: number;
  /** The rack whose GPUs run hottest (site, rack label). */
  hottestRack: { site: string; rack: string };
  overheat: number;
  openFlags: number;
  racks: number;
  /** GPUs of customer "acme". */
  acmeGpus: number;
  close(): void;
}

interface Place {
  host: string;
  site: string;
  rack: string;
  customer: string;
}

function place(h: number): Place {
  const site = WALL_SITES[h % WALL_SITES.length] as string;
  const n = Math.floor(h / WALL_SITES.length);
  const r = Math.floor(n / HOSTS_PER_RACK);
  const c = (Math.floor(h / (WALL_SITES.length * HOSTS_PER_RACK)) * 5 + h) % 16;
  return {
    host: `${site}-node-${String(n).padStart(4, "0")}`,
    site,
    rack: `${site}-r${String(r).padStart(2, "0")}`,
    customer: c === 0 ? "acme" : `cust-${String(c).padStart(2, "0")}`,
  };
}

const uuid = (h: number, i: number) =>
  `GPU-${String(h).padStart(5, "0")}${i}a-7c1e-4b2d-9f00-${String(h * 8 + i).padStart(12, "0")}`;

export function buildWallFleet(options: { hosts?: number } = {}): WallFleet {
  const hosts = options.hosts ?? 1250;
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const dir = mkdtempSync(join(tmpdir(), "gputel-wall-"));
  const store = Store.open(join(dir, "collector.db"), { now: () => nowMs });
  const places = Array.from({ length: hosts }, (_, h) => place(h));
  // The hot rack: the middle rack of the third site.
  const hotSite = WALL_SITES[2 % WALL_SITES.length] as string;
  const siteRacks = [...new Set(places.filter((p) => p.site === hotSite).map((p) => p.rack))];
  const hotRack = siteRacks[Math.floor(siteRacks.length / 2)] as string;
  const hot = new Set<string>();
  places.forEach((p, h) => {
    if (p.rack === hotRack) for (let i = 0; i < GPUS_PER_HOST; i++) hot.add(uuid(h, i));
  });
  const hotRackGpus = hot.size;
  for (let h = 0; hot.size < hotRackGpus + Math.round((77 * hosts) / 1250); h += 13)
    if (places[h % hosts]?.rack !== hotRack) hot.add(uuid(h % hosts, h % GPUS_PER_HOST));
  // Readings from a seeded generator, not a formula: a formula compresses far better than a
  // real fleet's numbers would, and the poll's size is one of the figures.
  const random = rng(18);
  const noise = Array.from({ length: hosts * GPUS_PER_HOST * 3 }, () => random());
  const tempOf = (h: number, i: number) =>
    places[h]?.rack === hotRack
      ? 95
      : hot.has(uuid(h, i))
        ? 88
        : 40 + Math.floor((noise[(h * GPUS_PER_HOST + i) * 3] ?? 0) * 35);
  places.forEach((p, h) => {
    store.writeInventory(
      {
        host: p.host,
        timestamp_ms: nowMs - 60_000,
        driver_version: "550.54.15",
        site: p.site,
        labels: { customer: p.customer, rack: p.rack },
        gpus: Array.from({ length: GPUS_PER_HOST }, (_, i) => ({
          index: i,
          uuid: uuid(h, i),
          name: h % 5 === 0 ? "NVIDIA A100-SXM4-80GB" : "NVIDIA H100 80GB HBM3",
          serial: `1652${h}${i}`,
          temperature_slowdown_celsius: 87,
          temperature_shutdown_celsius: 92,
        })),
      },
      nowMs - 60_000,
    );
  });
  const sample = (h: number, i: number, k: number): IGpuSample => {
    const busy = (h + i) % 4 !== 0;
    return {
      index: i,
      uuid: uuid(h, i),
      state: GpuState.GPU_STATE_OK,
      utilization_gpu_pct: busy
        ? 18 + Math.floor((noise[(h * GPUS_PER_HOST + i) * 3 + 1 + (k % 2)] ?? 0) * 80)
        : 0,
      memory_used_mib: busy ? 60_000 : 1,
      memory_total_mib: 81_559,
      temperature_gpu_celsius: tempOf(h, i),
      power_draw_watts: busy ? 420 + ((h + i) % 200) : 70,
      power_limit_watts: 700,
      compute_processes: busy ? 1 : 0,
      mig_mode: false,
    };
  };
  for (let k = 0; k < 2; k++) {
    const ts = nowMs - 20_000 + k * 10_000;
    const frames: ValidFrame[] = places.map((p, h) => ({
      host: p.host,
      boot_id: `boot-${h}`,
      seq: k + 1,
      timestamp_ms: ts,
      interval_ms: 10_000,
      site: p.site,
      labels: { customer: p.customer, rack: p.rack },
      gpus: Array.from({ length: GPUS_PER_HOST }, (_, i) => sample(h, i, k)),
    }));
    for (let i = 0; i < frames.length; i += 250) store.writeFrames(frames.slice(i, i + 250), ts);
  }
  const flagStore = new FlagStore(store.db);
  let openFlags = 0;
  const insert = (
    h: number,
    i: number | null,
    kind: FlagKind,
    severity: Severity,
    ageMs: number,
    reason: string,
  ) => {
    const p = places[h] as Place;
    flagStore.insert(
      {
        kind,
        severity,
        host: p.host,
        gpuUuid: i === null ? null : uuid(h, i),
        gpuIndex: i,
        site: p.site,
        labels: { customer: p.customer, rack: p.rack },
        startMs: nowMs - ageMs,
        reason,
        values: {},
      },
      nowMs,
    );
    openFlags++;
  };
  flagStore.transaction(() => {
    places.forEach((_, h) => {
      for (let i = 0; i < GPUS_PER_HOST; i++) {
        const t = tempOf(h, i);
        if (hot.has(uuid(h, i)))
          insert(
            h,
            i,
            "overheat",
            "critical",
            3_600_000 + h * 1000,
            `GPU temperature ${t} °C at or above the 87 °C slowdown temperature for 2m`,
          );
        else if ((h + i) % 4 === 0 && (h * 8 + i) % 3 !== 0)
          insert(
            h,
            i,
            (h + i) % 8 === 0 ? "idle-held" : "idle",
            (h + i) % 8 === 0 ? "warning" : "info",
            60_000 + i * 1000,
            "idle for 1h",
          );
      }
      if (h % 211 === 5) insert(h, 2, "lost", "critical", 120_000, "GPU fell off the bus");
      if (h % 97 === 3) insert(h, 5, "throttled", "warning", 600_000, "power brake");
    });
  });
  const flags = new FlagEngine({ store: flagStore, config: resolveFlagsConfig(), now: () => nowMs });
  flags.start();
  const backend = new StoreBackend({ store, flags, now: () => nowMs });
  return {
    backend,
    store,
    flags,
    nowMs,
    hosts,
    gpus: hosts * GPUS_PER_HOST,
    hottestRack: { site: hotSite, rack: hotRack },
    overheat: hot.size,
    openFlags,
    racks: new Set(places.map((p) => p.rack)).size,
    acmeGpus: places.filter((p) => p.customer === "acme").length * GPUS_PER_HOST,
    close() {
      flags.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
