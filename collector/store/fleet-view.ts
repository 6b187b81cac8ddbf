// The store's side of GPU ownership and the host/GPU limits (FleetView, sink.ts): answered from
// the registry in memory, except operator approvals, read from the database when a claim would
// otherwise be refused (the CLI writes them from another process).

import type { FleetView, GpuOwner, MoveReason } from "../ingest/sink.js";
import type { Registry } from "./registry.js";
import type { Statements } from "./statements.js";

export class StoreFleetView implements FleetView {
  constructor(
    private readonly registry: Registry,
    private readonly stmts: Statements,
    private readonly transaction: (fn: () => void) => void,
  ) {}

  hostCount(): number {
    return this.registry.hosts.size;
  }

  hasHost(host: string): boolean {
    return this.registry.hosts.has(host);
  }

  knowsBoot(host: string, bootId: string): boolean {
    const h = this.registry.hosts.get(host);
    if (!h) return false;
    return h.seen.has(bootId) || this.stmts.getSeen.get(h.id, bootId) !== undefined;
  }

  bootCount(host: string): number {
    const h = this.registry.hosts.get(host);
    return h ? (this.stmts.countBoots.get(h.id) as number) : 0;
  }

  gpuCount(): number {
    return this.registry.gpus.size;
  }

  activeGpuCount(host: string, nowMs: number, holdMs: number): number {
    const registry = this.registry;
    const h = registry.hosts.get(host);
    if (!h) return 0;
    let n = 0;
    for (const [id, seenMs] of h.gpus) {
      const uuid = registry.gpusById.get(id)?.uuid;
      if (nowMs - seenMs <= holdMs || (uuid !== undefined && h.inventory?.has(uuid))) n++;
    }
    return n;
  }

  gpuOwner(uuid: string): GpuOwner | undefined {
    const registry = this.registry;
    const g = registry.gpus.get(uuid);
    if (!g) return undefined;
    const h = registry.hostsById.get(g.hostId);
    if (!h) return undefined;
    return {
      host: h.name,
      hostLastSeenMs: h.lastSeenMs,
      inOwnerInventory: h.inventory === undefined ? undefined : h.inventory.has(uuid),
    };
  }

  approvedMove(uuid: string): string | undefined {
    return this.stmts.getMoveApproval.get(uuid) as string | undefined;
  }

  moveGpu(uuid: string, host: string, reason: MoveReason, atMs: number): void {
    this.transaction(() => this.registry.moveGpu(uuid, host, reason, atMs));
  }
}
