// A deterministic synthetic GPU fleet for tests and benches: busy, idle, idle-held and
// flapping GPUs; noisy power with two decimals; slowly drifting temperatures; constant
// limits; model-dependent absent fields (no fan on passive boards, no memory temperature on
// GDDR boards) and occasional [N/A] readings; a little timestamp jitter as real agents have.
import type { IGpuSample } from "../shared/proto.js";
import { GpuState } from "../shared/proto.js";

/** A frame as the store receives it (the shape of ValidFrame in collector/ingest/validate.ts). */
export interface SynthFrame {
  host: string;
  boot_id: string;
  seq: number;
  timestamp_ms: number;
  interval_ms: number;
  site: string;
  labels: Record<string, string>;
  gpus: IGpuSample[];
}

export type Profile = "busy" | "idle" | "idle_held" | "flapping";

export interface FleetOptions {
  hosts: number;
  gpusPerHost: number;
  intervalMs?: number;
  startMs?: number;
  seed?: number;
  /** Share of single readings that come out absent (default 0.001). */
  absentRate?: number;
  /** Timestamp jitter in ms (default 3). */
  jitterMs?: number;
}

interface GpuModel {
  name: string;
  memoryMib: number;
  powerLimitW: number;
  idleW: number;
  busyW: number;
  fan: boolean;
  hbm: boolean;
}

const MODELS: readonly GpuModel[] = [
  {
    name: "NVIDIA H100 80GB HBM3",
    memoryMib: 81559,
    powerLimitW: 700,
    idleW: 71,
    busyW: 610,
    fan: false,
    hbm: true,
  },
  { name: "NVIDIA L40S", memoryMib: 46068, powerLimitW: 350, idleW: 34, busyW: 300, fan: false, hbm: false },
  {
    name: "NVIDIA GeForce RTX 4080 SUPER",
    memoryMib: 16376,
    powerLimitW: 320,
    idleW: 12,
    busyW: 290,
    fan: true,
    hbm: false,
  },
];
const PROFILES: readonly Profile[] = ["busy", "busy", "idle", "idle_held", "flapping"];

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GpuSim {
  uuid: string;
  index: number;
  model: GpuModel;
  profile: Profile;
  temp: number;
  ecc: number;
}

export class SynthFleet {
  readonly intervalMs: number;
  readonly startMs: number;
  private readonly random: () => number;
  private readonly absentRate: number;
  private readonly jitterMs: number;
  private readonly sims: GpuSim[][] = [];

  constructor(readonly options: FleetOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.startMs = options.startMs ?? Date.UTC(2026, 0, 1);
    this.random = rng(options.seed ?? 1);
    this.absentRate = options.absentRate ?? 0.001;
    this.jitterMs = options.jitterMs ?? 3;
    for (let h = 0; h < options.hosts; h++) {
      const model = MODELS[h % MODELS.length] as GpuModel;
      const gpus: GpuSim[] = [];
      for (let i = 0; i < options.gpusPerHost; i++) {
        gpus.push({
          uuid: `GPU-${String(h).padStart(4, "0")}${String(i).padStart(4, "0")}-synth-${options.seed ?? 1}`,
          index: i,
          model,
          profile: PROFILES[(h * 3 + i) % PROFILES.length] as Profile,
          temp: 35,
          ecc: 0,
        });
      }
      this.sims.push(gpus);
    }
  }

  hostName(h: number): string {
    return `node-${String(h).padStart(4, "0")}`;
  }

  profileOf(uuid: string): Profile | undefined {
    for (const host of this.sims) for (const g of host) if (g.uuid === uuid) return g.profile;
    return undefined;
  }

  /** Frame number k (0-based) of host h. Call in increasing k per host: temperatures drift. */
  frame(h: number, k: number): SynthFrame {
    const ts = this.startMs + k * this.intervalMs + Math.floor(this.random() * (this.jitterMs + 1));
    const gpus = (this.sims[h] as GpuSim[]).map((g) => this.sample(g, ts));
    return {
      host: this.hostName(h),
      boot_id: `boot-${h}`,
      seq: k + 1,
      timestamp_ms: ts,
      interval_ms: this.intervalMs,
      site: h % 2 === 0 ? "fra1" : "ams2",
      labels: { customer: `c${h % 3}`, rack: `r${Math.floor(h / 4)}` },
      gpus,
    };
  }

  /** Frames k in [from, to) of every host, interleaved by time (as a collector sees them). */
  *frames(from: number, to: number): Generator<SynthFrame> {
    for (let k = from; k < to; k++) for (let h = 0; h < this.sims.length; h++) yield this.frame(h, k);
  }

  private busyAt(g: GpuSim, ts: number): boolean {
    if (g.profile === "busy") return true;
    if (g.profile === "flapping") return Math.floor(ts / 180_000 + g.index) % 2 === 0;
    return false;
  }

  private maybe<T>(value: T): T | null {
    return this.random() < this.absentRate ? null : value;
  }

  private sample(g: GpuSim, ts: number): IGpuSample {
    const r = this.random;
    const busy = this.busyAt(g, ts);
    const m = g.model;
    const util = busy ? Math.min(100, Math.round(88 + r() * 12)) : 0;
    const target = busy ? 72 : 34;
    if (r() < 0.05) g.temp += Math.sign(target - g.temp);
    if (r() < 0.0001) g.ecc += 1;
    const held = g.profile === "idle_held" || busy;
    const power = busy ? m.busyW - 40 + r() * 80 : m.idleW + r() * 6;
    const sample: IGpuSample = {
      index: g.index,
      uuid: g.uuid,
      state: GpuState.GPU_STATE_OK,
      utilization_gpu_pct: this.maybe(util),
      utilization_memory_pct: this.maybe(busy ? Math.round(40 + r() * 20) : 0),
      memory_used_mib: this.maybe(held ? Math.round(m.memoryMib * 0.8) : 1),
      memory_total_mib: m.memoryMib,
      temperature_gpu_celsius: this.maybe(g.temp),
      temperature_memory_celsius: m.hbm ? this.maybe(g.temp + 4) : null,
      temperature_gpu_tlimit_celsius: this.maybe(87 - g.temp),
      power_draw_watts: this.maybe(Math.round(power * 100) / 100),
      power_limit_watts: m.powerLimitW,
      clocks_sm_mhz: this.maybe(busy ? 1980 : 345),
      clocks_memory_mhz: this.maybe(busy ? 2619 : 405),
      fan_speed_pct: m.fan ? this.maybe(Math.round(30 + (g.temp - 30) / 2)) : null,
      pstate: busy ? 0 : 8,
      clock_event_reasons: busy ? 0 : 1,
      ecc_corrected_volatile: m.hbm ? g.ecc : null,
      ecc_uncorrected_volatile: m.hbm ? 0 : null,
      remapped_rows_correctable: m.hbm ? 0 : null,
      remapped_rows_uncorrectable: m.hbm ? 0 : null,
      remapped_rows_pending: m.hbm ? false : null,
      remapped_rows_failure: m.hbm ? false : null,
      pcie_link_gen: busy ? 5 : 1,
      pcie_link_width: 16,
      compute_processes: held ? 1 : 0,
      compute_memory_mib: held ? Math.round(m.memoryMib * 0.8) - 500 : 0,
      mig_mode: false,
    };
    return sample;
  }
}
