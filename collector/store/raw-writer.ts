// The write path: hosts and GPUs registry, frame idempotence, the open raw windows, late
// samples and rollup deltas, and sealing them into raw_blocks / rollups. All state here is
// rebuilt by load() from the database (at open, and after a failed transaction).
import type { Database } from "better-sqlite3";
import type { IInventory } from "../../shared/proto.js";
import { classifySample, type IdleThresholds } from "../flags/classify.js";
import { decodeChunk, encodeChunk } from "./chunk-codec.js";
import {
  type GpuMem,
  hasUnsealed,
  insertSorted,
  type LateSample,
  newGpuMem,
  windowStart,
} from "./gpu-state.js";
import { applySample, newAcc } from "./rollup-acc.js";
import { flushDelta } from "./rollup-rows.js";
import {
  classifyView,
  decodeRecent,
  encodeRecent,
  METRIC_COUNT,
  type StoredSample,
  scaleSample,
} from "./sample.js";
import { SeqRanges } from "./seq-ranges.js";
import type { ValidFrame, WriteResult } from "./sink.js";
import type { GpuRow, HostRow, Statements } from "./statements.js";
import type { HostMem, StoreOptions } from "./store.js";
import type { TierConfig } from "./tiers.js";
import { ByteWriter } from "./varint.js";

type ThresholdsFn = (host: string, site: string, labels: Readonly<Record<string, string>>) => IdleThresholds;

export class RawWriter {
  readonly hosts = new Map<string, HostMem>();
  readonly hostsById = new Map<number, HostMem>();
  readonly gpus = new Map<string, GpuMem>();
  readonly gpusById = new Map<number, GpuMem>();
  framesStored = 0;
  valuesStored = 0;
  private readonly writer = new ByteWriter(512);
  private readonly blockCache = new Map<number, Set<number>>();

  constructor(
    private readonly db: Database,
    private readonly stmts: Statements,
    private readonly tiers: TierConfig,
    private readonly opts: Required<Pick<StoreOptions, "rawWindowMs" | "maxBlockSamples" | "graceMs">>,
    private readonly thresholdsFor: ThresholdsFn,
  ) {}

  get gpuCount(): number {
    return this.gpus.size;
  }

  /** Rebuilds memory from disk: registry, unsealed samples, rollup deltas, latest values. */
  load(): void {
    this.hosts.clear();
    this.hostsById.clear();
    this.gpus.clear();
    this.gpusById.clear();
    this.blockCache.clear();
    for (const row of this.db.prepare("SELECT * FROM hosts").all() as HostRow[]) {
      const labels = JSON.parse(row.labels) as Record<string, string>;
      const h: HostMem = {
        id: row.id,
        name: row.name,
        site: row.site,
        labels,
        thresholds: this.thresholdsFor(row.name, row.site, labels),
        lastSeenMs: row.last_seen_ms,
        status: row.status,
        statusReason: row.status_reason,
        statusMs: row.status_ms,
        seen: new Map(),
      };
      this.hosts.set(h.name, h);
      this.hostsById.set(h.id, h);
    }
    for (const row of this.db.prepare("SELECT id, uuid, model, host_id, idx FROM gpus").all() as GpuRow[]) {
      this.addGpu(newGpuMem(row, this.tiers.rollups.length, this.opts.rawWindowMs));
    }
    const counts = this.db.prepare("SELECT coalesce(sum(values_count), 0) AS v FROM raw_blocks").get() as {
      v: number;
    };
    this.valuesStored = counts.v;
    this.framesStored = 0;
    const recent = this.db.prepare("SELECT gpu_id, ts_ms, raw, data FROM raw_recent ORDER BY gpu_id, ts_ms");
    let current: GpuMem | undefined;
    let rows: { s: StoredSample; raw: boolean }[] = [];
    const flush = () => {
      if (current) this.restoreUnsealed(current, rows);
      rows = [];
    };
    for (const r of recent.iterate() as Iterable<{
      gpu_id: number;
      ts_ms: number;
      raw: number;
      data: Buffer;
    }>) {
      if (current?.id !== r.gpu_id) {
        flush();
        current = this.gpusById.get(r.gpu_id);
      }
      rows.push({ s: decodeRecent(r.ts_ms, r.data), raw: r.raw === 1 });
    }
    flush();
    for (const g of this.gpus.values()) {
      if (g.latest) continue;
      const block = this.stmts.lastBlock.get(g.id) as { data: Buffer } | undefined;
      if (!block) continue;
      const c = decodeChunk(block.data);
      const k = c.n - 1;
      const vals = new Float64Array(METRIC_COUNT);
      for (let m = 0; m < METRIC_COUNT; m++) vals[m] = (c.cols[m] as Float64Array)[k] as number;
      g.latest = {
        ts: c.ts[k] as number,
        intervalMs: c.interval[k] as number,
        state: c.state[k] as number,
        vals,
      };
    }
  }

  private restoreUnsealed(g: GpuMem, rows: { s: StoredSample; raw: boolean }[]): void {
    const sealedEnd = this.sealedEnd(g);
    let maxRaw = -1;
    for (const r of rows) if (r.raw && r.s.ts > maxRaw) maxRaw = r.s.ts;
    if (maxRaw >= 0) {
      const start = windowStart(maxRaw, g.phaseMs, this.opts.rawWindowMs);
      g.windowEnd = start + this.opts.rawWindowMs;
      g.openFloor = Math.max(start, sealedEnd + 1);
    }
    const hostThresholds = this.hostsById.get(g.hostId)?.thresholds;
    for (const r of rows) {
      if (r.raw && maxRaw >= 0 && r.s.ts >= g.openFloor) insertSorted(g.open, r.s);
      else g.late.push({ ...r.s, raw: r.raw });
      this.applyRollups(g, r.s, hostThresholds, Number.NEGATIVE_INFINITY);
      if (r.raw && (!g.latest || g.latest.ts <= r.s.ts)) g.latest = r.s;
      if (r.raw) this.valuesStored += presentCount(r.s);
    }
  }

  private addGpu(g: GpuMem): void {
    this.gpus.set(g.uuid, g);
    this.gpusById.set(g.id, g);
  }

  private sealedEnd(g: GpuMem): number {
    if (g.sealedEnd < 0) {
      const row = this.stmts.sealedEnd.get(g.id) as { e: number | null };
      g.sealedEnd = row.e ?? Number.NEGATIVE_INFINITY;
    }
    return g.sealedEnd;
  }

  ensureHost(
    name: string,
    site: string | undefined,
    labels: Record<string, string> | null | undefined,
    seenMs: number,
  ): HostMem {
    let h = this.hosts.get(name);
    if (!h) {
      const l = { ...(labels ?? {}) };
      const row = this.stmts.insertHost.get(name, site ?? "", JSON.stringify(l), seenMs, seenMs) as {
        id: number;
      };
      h = {
        id: row.id,
        name,
        site: site ?? "",
        labels: l,
        thresholds: this.thresholdsFor(name, site ?? "", l),
        lastSeenMs: seenMs,
        status: "unknown",
        statusReason: "",
        statusMs: null,
        seen: new Map(),
      };
      this.hosts.set(name, h);
      this.hostsById.set(h.id, h);
      return h;
    }
    const siteChanged = site !== undefined && site !== h.site;
    if (siteChanged || (labels && !sameLabels(h.labels, labels))) {
      h.site = site ?? h.site;
      if (labels) h.labels = { ...labels };
      h.thresholds = this.thresholdsFor(h.name, h.site, h.labels);
      this.stmts.updateHostMeta.run(h.site, JSON.stringify(h.labels), h.id);
    }
    return h;
  }

  private ensureGpu(uuid: string, host: HostMem, index: number, seenMs: number): GpuMem {
    let g = this.gpus.get(uuid);
    if (!g) {
      const row = this.stmts.insertGpu.get(uuid, host.id, index, seenMs, seenMs) as { id: number };
      g = newGpuMem(
        { id: row.id, uuid, host_id: host.id, idx: index, model: "" },
        this.tiers.rollups.length,
        this.opts.rawWindowMs,
      );
      g.sealedEnd = Number.NEGATIVE_INFINITY;
      this.addGpu(g);
    } else if (g.hostId !== host.id || g.index !== index) {
      g.hostId = host.id;
      g.index = index;
      this.stmts.updateGpuPlace.run(host.id, index, g.id);
    }
    return g;
  }

  writeFrames(frames: readonly ValidFrame[], nowMs: number): WriteResult {
    let stored = 0;
    let duplicates = 0;
    const touchedSeen = new Map<HostMem, Set<string>>();
    const rawCutoff = nowMs - this.tiers.rawRetentionMs;
    for (const frame of frames) {
      const h = this.ensureHost(frame.host, frame.site ?? undefined, frame.labels, nowMs);
      let seen = h.seen.get(frame.boot_id);
      if (!seen) {
        const row = this.stmts.getSeen.get(h.id, frame.boot_id) as { ranges: string } | undefined;
        seen = row ? SeqRanges.parse(row.ranges) : new SeqRanges();
        h.seen.set(frame.boot_id, seen);
      }
      if (!seen.add(frame.seq)) {
        duplicates++;
        continue;
      }
      let boots = touchedSeen.get(h);
      if (!boots) {
        boots = new Set();
        touchedSeen.set(h, boots);
      }
      boots.add(frame.boot_id);
      if (frame.timestamp_ms > h.lastSeenMs) h.lastSeenMs = frame.timestamp_ms;
      let added = 0;
      const gpus = frame.gpus ?? [];
      for (const gpu of gpus) {
        const uuid = gpu.uuid || `${frame.host}/gpu${gpu.index ?? 0}`;
        const g = this.ensureGpu(uuid, h, gpu.index ?? 0, nowMs);
        const s: StoredSample = {
          ts: frame.timestamp_ms,
          intervalMs: frame.interval_ms,
          state: gpu.state ?? 0,
          vals: scaleSample(gpu),
        };
        if (this.addSample(g, h, s, s.ts >= rawCutoff, nowMs)) added++;
      }
      if (added > 0 || gpus.length === 0) stored++;
      else duplicates++;
    }
    for (const [h, boots] of touchedSeen) {
      for (const boot of boots) this.stmts.putSeen.run(h.id, boot, String(h.seen.get(boot)), nowMs);
      this.stmts.updateHostSeen.run(h.lastSeenMs, h.id);
    }
    this.framesStored += stored;
    return { stored, duplicates };
  }

  /** Places one sample; false when it is a duplicate (same GPU and timestamp). */
  private addSample(g: GpuMem, h: HostMem, s: StoredSample, raw: boolean, nowMs: number): boolean {
    const W = this.opts.rawWindowMs;
    // Older than every tier keeps: nothing to store (ingest normally rejects these first).
    if (!raw && !this.tiers.rollups.some((t) => s.ts >= nowMs - t.retentionMs)) return true;
    if (raw && g.windowEnd !== 0 && s.ts >= g.windowEnd) {
      this.seal(g);
      g.windowEnd = 0;
    }
    if (raw && g.windowEnd === 0 && s.ts >= g.openFloor) {
      const start = windowStart(s.ts, g.phaseMs, W);
      g.windowEnd = start + W;
      g.openFloor = Math.max(start, this.sealedEnd(g) + 1, g.openFloor);
    }
    const inOpen = raw && g.windowEnd !== 0 && s.ts >= g.openFloor;
    if (!inOpen && raw && this.inSealedBlock(g, s.ts)) return false;
    // The primary key (gpu, ts) rejects a second copy of an unsealed sample.
    const data = encodeRecent(s, this.writer);
    if (this.stmts.insertRecent.run(g.id, s.ts, raw ? 1 : 0, data).changes === 0) return false;
    if (inOpen) insertSorted(g.open, s);
    else g.late.push({ ...s, raw } as LateSample);
    this.applyRollups(g, s, h.thresholds, nowMs);
    if (raw) {
      if (!g.latest || g.latest.ts <= s.ts) g.latest = s;
      this.valuesStored += presentCount(s);
    }
    if (g.open.length + g.late.length >= this.opts.maxBlockSamples) this.seal(g);
    return true;
  }

  /** Adds the sample to the delta of each tier whose retention (counted back from nowMs) holds it. */
  private applyRollups(
    g: GpuMem,
    s: StoredSample,
    thresholds: IdleThresholds | undefined,
    nowMs: number,
  ): void {
    const usage = thresholds ? classifySample(classifyView(s.state, s.vals), thresholds) : "unknown";
    const tiers = this.tiers.rollups;
    for (let t = 0; t < tiers.length; t++) {
      const tier = tiers[t] as { stepMs: number; retentionMs: number };
      if (s.ts < nowMs - tier.retentionMs) continue;
      const step = tier.stepMs;
      const bucket = s.ts - (((s.ts % step) + step) % step);
      const deltas = g.deltas[t] as Map<number, Float64Array>;
      let acc = deltas.get(bucket);
      if (!acc) {
        acc = newAcc();
        deltas.set(bucket, acc);
      }
      applySample(acc, s.ts, s.intervalMs, s.vals, usage);
    }
  }

  /** Whether a sealed block of this GPU already holds a sample at ts (late samples only). */
  private inSealedBlock(g: GpuMem, ts: number): boolean {
    if (ts > this.sealedEnd(g)) return false;
    for (const b of this.stmts.blocksCovering.all(g.id, ts, ts) as { id: number; data: Buffer }[]) {
      let set = this.blockCache.get(b.id);
      if (!set) {
        set = new Set(decodeChunk(b.data).ts);
        if (this.blockCache.size > 256) this.blockCache.clear();
        this.blockCache.set(b.id, set);
      }
      if (set.has(ts)) return true;
    }
    return false;
  }

  /** Seals everything unsealed of one GPU: blocks written, recent rows deleted, deltas merged. */
  seal(g: GpuMem): void {
    if (g.open.length > 0) {
      this.insertBlock(g, g.open);
      g.openFloor = Math.max(g.openFloor, (g.open[g.open.length - 1] as StoredSample).ts + 1);
    }
    const lateRaw = g.late.filter((s) => s.raw).sort((a, b) => a.ts - b.ts);
    for (let i = 0; i < lateRaw.length; i += this.opts.maxBlockSamples) {
      this.insertBlock(g, lateRaw.slice(i, i + this.opts.maxBlockSamples));
    }
    this.stmts.deleteRecent.run(g.id);
    const tiers = this.tiers.rollups;
    for (let t = 0; t < tiers.length; t++) {
      const deltas = g.deltas[t] as Map<number, Float64Array>;
      for (const [bucket, acc] of deltas)
        flushDelta(this.stmts, (tiers[t] as { stepMs: number }).stepMs, g.id, bucket, acc);
      deltas.clear();
    }
    g.open = [];
    g.late = [];
  }

  private insertBlock(g: GpuMem, samples: readonly StoredSample[]): void {
    let values = 0;
    for (const s of samples) values += presentCount(s);
    const first = (samples[0] as StoredSample).ts;
    const last = (samples[samples.length - 1] as StoredSample).ts;
    this.stmts.insertBlock.run(g.id, first, last, samples.length, values, encodeChunk(samples));
    if (last > this.sealedEnd(g)) g.sealedEnd = last;
  }

  sealStale(nowMs: number, maxGpus: number): number {
    let sealed = 0;
    for (const g of this.gpus.values()) {
      if (sealed >= maxGpus) break;
      if (!hasUnsealed(g)) continue;
      const due = g.windowEnd === 0 || g.windowEnd + this.opts.graceMs <= nowMs;
      if (!due) continue;
      this.seal(g);
      g.windowEnd = 0;
      sealed++;
    }
    return sealed;
  }

  writeInventory(inv: IInventory, nowMs: number): void {
    if (!inv.host) return;
    const h = this.ensureHost(inv.host, inv.site || undefined, inv.labels, nowMs);
    const at = Number(inv.timestamp_ms ?? 0) || nowMs;
    for (const info of inv.gpus ?? []) {
      if (!info.uuid) continue;
      const g = this.ensureGpu(info.uuid, h, info.index ?? 0, nowMs);
      const model = info.name ?? "";
      if (model !== "" && model !== g.model) {
        g.model = model;
        this.stmts.updateGpuModel.run(model, g.id);
      }
      const next = {
        host_id: h.id,
        idx: info.index ?? 0,
        model,
        serial: info.serial ?? "",
        vbios_version: info.vbios_version ?? "",
        driver_version: inv.driver_version ?? "",
        pci_bus_id: info.pci_bus_id ?? "",
      };
      const open = this.stmts.openInventory.get(g.id) as (typeof next & { id: number }) | undefined;
      const same = open && (Object.keys(next) as (keyof typeof next)[]).every((k) => open[k] === next[k]);
      if (same) continue;
      if (open) this.stmts.closeInventory.run(at, open.id);
      this.stmts.insertInventory.run(
        g.id,
        next.host_id,
        next.idx,
        next.model,
        next.serial,
        next.vbios_version,
        next.driver_version,
        next.pci_bus_id,
        JSON.stringify(info),
        at,
      );
    }
  }
}

function presentCount(s: StoredSample): number {
  let n = 0;
  for (let m = 0; m < METRIC_COUNT; m++) if (!Number.isNaN(s.vals[m] as number)) n++;
  return n;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}
