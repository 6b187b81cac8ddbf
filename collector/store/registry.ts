// Hosts and GPUs as the store knows them: cached in memory, written through to the hosts,
// gpus and gpu_inventory tables. A GPU is keyed by UUID; moving to another host or slot, or a
// driver / VBIOS change, closes its open inventory row and opens a new one.
import type { Database } from "better-sqlite3";
import type { IInventory } from "../../shared/proto.js";
import type { MoveReason } from "../ingest/sink.js";
import type { IdleThresholds } from "../usage/classify.js";
import { sameLabels } from "../usage/placement.js";
import { type GpuMem, newGpuMem } from "./gpu-state.js";
import type { SeqRanges } from "./seq-ranges.js";
import type { GpuRow, HostRow, Statements } from "./statements.js";

interface InventoryRow {
  id: number;
  host_id: number;
  idx: number;
  model: string;
  serial: string;
  vbios_version: string;
  driver_version: string;
  pci_bus_id: string;
}

export type ThresholdsFn = (
  host: string,
  site: string,
  labels: Readonly<Record<string, string>>,
) => IdleThresholds;

export interface HostMem {
  id: number;
  name: string;
  site: string;
  labels: Record<string, string>;
  thresholds: IdleThresholds;
  lastSeenMs: number;
  /** Sequence numbers seen per boot id (loaded on first use). */
  seen: Map<string, SeqRanges>;
  /** UUIDs of its latest inventory; undefined until it sends one. */
  inventory: Set<string> | undefined;
  /** Its GPUs (id → collector time it last reported the GPU; 0 when not since start-up). */
  gpus: Map<number, number>;
}

export class Registry {
  readonly hosts = new Map<string, HostMem>();
  readonly hostsById = new Map<number, HostMem>();
  readonly gpus = new Map<string, GpuMem>();
  readonly gpusById = new Map<number, GpuMem>();

  constructor(
    private readonly db: Database,
    private readonly stmts: Statements,
    /** The rollup tiers' steps, finest first. */
    private readonly steps: readonly number[],
    private readonly windowMs: number,
    private readonly thresholdsFor: ThresholdsFn,
  ) {}

  load(): void {
    this.hosts.clear();
    this.hostsById.clear();
    this.gpus.clear();
    this.gpusById.clear();
    for (const row of this.hostRows()) this.addHost(this.hostOf(row));
    for (const row of this.gpuRows()) this.addGpu(newGpuMem(row, this.steps, this.windowMs));
  }

  /**
   * Reader only: brings hosts and GPUs up to the database in place, so each GpuMem keeps its
   * unsealed samples (RawWriter.refresh). New hosts and GPUs are added, hosts' last sighting and
   * inventory and GPUs' slot and model follow. False, with the memory then to be loaded again,
   * when a host's name, site or labels changed (its idle thresholds, by which the held samples
   * were classified, may have), a GPU changed host, or a host or GPU is gone.
   */
  refresh(): boolean {
    const hostsBefore = this.hostsById.size;
    const gpusBefore = this.gpusById.size;
    let knownHosts = 0;
    for (const row of this.hostRows()) {
      const h = this.hostsById.get(row.id);
      if (!h) {
        this.addHost(this.hostOf(row));
        continue;
      }
      knownHosts++;
      const labels = JSON.parse(row.labels) as Record<string, string>;
      if (h.name !== row.name || h.site !== row.site || !sameLabels(h.labels, labels)) return false;
      h.lastSeenMs = row.last_seen_ms;
      h.inventory = inventoryOf(row);
    }
    let knownGpus = 0;
    const added: GpuRow[] = [];
    for (const row of this.gpuRows()) {
      const g = this.gpusById.get(row.id);
      if (!g) {
        added.push(row);
        continue;
      }
      knownGpus++;
      if (g.uuid !== row.uuid || g.hostId !== row.host_id) return false;
      g.index = row.idx;
      g.model = row.model;
    }
    if (knownHosts !== hostsBefore || knownGpus !== gpusBefore) return false;
    for (const row of added) this.addGpu(newGpuMem(row, this.steps, this.windowMs));
    return true;
  }

  private hostRows(): HostRow[] {
    return this.db.prepare("SELECT * FROM hosts").all() as HostRow[];
  }

  private gpuRows(): GpuRow[] {
    return this.db.prepare("SELECT id, uuid, model, host_id, idx, first_seen_ms FROM gpus").all() as GpuRow[];
  }

  private hostOf(row: HostRow): HostMem {
    const labels = JSON.parse(row.labels) as Record<string, string>;
    return {
      id: row.id,
      name: row.name,
      site: row.site,
      labels,
      thresholds: this.thresholdsFor(row.name, row.site, labels),
      lastSeenMs: row.last_seen_ms,
      seen: new Map(),
      inventory: inventoryOf(row),
      gpus: new Map(),
    };
  }

  private addHost(h: HostMem): void {
    this.hosts.set(h.name, h);
    this.hostsById.set(h.id, h);
  }

  private addGpu(g: GpuMem): void {
    this.gpus.set(g.uuid, g);
    this.gpusById.set(g.id, g);
    this.hostsById.get(g.hostId)?.gpus.set(g.id, 0);
  }

  ensureHost(
    name: string,
    site: string | undefined,
    labels: Record<string, string> | null | undefined,
    seenMs: number,
  ): HostMem {
    const h = this.hosts.get(name);
    if (!h) {
      const l = { ...(labels ?? {}) };
      const row = this.stmts.insertHost.get(name, site ?? "", JSON.stringify(l), seenMs, seenMs) as {
        id: number;
      };
      const created: HostMem = {
        id: row.id,
        name,
        site: site ?? "",
        labels: l,
        thresholds: this.thresholdsFor(name, site ?? "", l),
        lastSeenMs: seenMs,
        seen: new Map(),
        inventory: undefined,
        gpus: new Map(),
      };
      this.addHost(created);
      return created;
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

  ensureGpu(uuid: string, host: HostMem, index: number, seenMs: number): GpuMem {
    let g = this.gpus.get(uuid);
    if (!g) {
      const row = this.stmts.insertGpu.get(uuid, host.id, index, seenMs, seenMs) as { id: number };
      g = newGpuMem(
        { id: row.id, uuid, host_id: host.id, idx: index, model: "", first_seen_ms: seenMs },
        this.steps,
        this.windowMs,
      );
      g.sealedEnd = Number.NEGATIVE_INFINITY;
      this.addGpu(g);
    } else if (g.hostId !== host.id || g.index !== index) {
      this.place(g, host, index);
    }
    host.gpus.set(g.id, seenMs);
    return g;
  }

  private place(g: GpuMem, host: HostMem, index: number): void {
    if (g.hostId !== host.id) this.hostsById.get(g.hostId)?.gpus.delete(g.id);
    g.hostId = host.id;
    g.index = index;
    host.gpus.set(g.id, host.gpus.get(g.id) ?? 0);
    this.stmts.updateGpuPlace.run(host.id, index, g.id);
  }

  /**
   * Moves a known GPU to another host (an accepted claim): its open inventory row is closed and
   * a copy on the new host opened with the reason, so the history shows when and why it moved.
   */
  moveGpu(uuid: string, hostName: string, reason: MoveReason, atMs: number): void {
    const g = this.gpus.get(uuid);
    if (!g) return;
    const h = this.ensureHost(hostName, undefined, undefined, atMs);
    this.stmts.deleteMoveApproval.run(uuid);
    if (g.hostId === h.id) return;
    const open = this.stmts.openInventory.get(g.id) as InventoryRow | undefined;
    if (open) this.stmts.closeInventory.run(atMs, open.id);
    this.stmts.insertInventoryMove.run(
      g.id,
      h.id,
      g.index,
      open?.model ?? g.model,
      open?.serial ?? "",
      open?.vbios_version ?? "",
      open?.driver_version ?? "",
      open?.pci_bus_id ?? "",
      "{}",
      atMs,
      reason,
    );
    this.place(g, h, g.index);
  }

  writeInventory(inv: IInventory, nowMs: number): void {
    if (!inv.host) return;
    const h = this.ensureHost(inv.host, inv.site || undefined, inv.labels, nowMs);
    const at = Number(inv.timestamp_ms ?? 0) || nowMs;
    const listed = (inv.gpus ?? []).map((info) => info.uuid ?? "").filter((u) => u !== "");
    // A failed -q -x lists none or some: the GPUs it leaves out have not left the host (another
    // host claiming one would be taken for a move), as the flag engine reads it too.
    const uuids = inv.error ? [...new Set([...(h.inventory ?? []), ...listed])] : listed;
    h.inventory = new Set(uuids);
    this.stmts.updateHostInventory.run(JSON.stringify(uuids), h.id);
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
      const open = this.stmts.openInventory.get(g.id) as InventoryRow | undefined;
      if (open && (Object.keys(next) as (keyof typeof next)[]).every((k) => open[k] === next[k])) continue;
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

/** A host row's latest inventory as a set of UUIDs; undefined until it sent one. */
function inventoryOf(row: HostRow): Set<string> | undefined {
  return row.inventory_uuids ? new Set(JSON.parse(row.inventory_uuids) as string[]) : undefined;
}
