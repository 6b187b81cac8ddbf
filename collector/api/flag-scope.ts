// The flags list's GPU filters, as the dashboard's URL spells them: a model, a free-text search
// (q: host, host:index, UUID, label values, model; case-insensitive, as the page's own search),
// one GPU. Each is resolved here, purely, to the GPUs (and their hosts, for host-level flags
// such as offline and stale) the store then narrows the flags to.
import type { GpuView } from "../contract/api-contract.js";

export interface FlagScopeQuery {
  model?: string;
  q?: string;
  /** One GPU, already looked up (by UUID or host:index). */
  gpu?: Pick<GpuView, "uuid" | "host">;
}

export interface FlagScope {
  uuids: string[];
  hosts: string[];
}

/** What the page's search looks in, for one GPU (fleet-model.js matches() reads the same). */
export function searchText(g: Pick<GpuView, "host" | "index" | "uuid" | "labels" | "model">): string {
  return `${g.host} ${g.host}:${g.index} ${g.uuid} ${Object.values(g.labels).join(" ")} ${g.model}`.toLowerCase();
}

/** The GPUs every given filter lets through, with their hosts; undefined when none is given. */
export function flagScope(gpus: readonly GpuView[], query: FlagScopeQuery): FlagScope | undefined {
  const { model, q, gpu } = query;
  if (model === undefined && q === undefined && gpu === undefined) return undefined;
  if (gpu && model === undefined && q === undefined) return { uuids: [gpu.uuid], hosts: [gpu.host] };
  const needle = q?.trim().toLowerCase();
  const uuids: string[] = [];
  const hosts = new Set<string>();
  for (const g of gpus) {
    if (gpu && g.uuid !== gpu.uuid) continue;
    if (model !== undefined && g.model !== model) continue;
    if (needle && !searchText(g).includes(needle)) continue;
    uuids.push(g.uuid);
    hosts.add(g.host);
  }
  return { uuids, hosts: [...hosts] };
}

/** The flags both scopes let through (a filter's within a tenant's); `narrow` alone where no filter is given. */
export function withinBoth(scope: FlagScope | undefined, narrow: FlagScope): FlagScope {
  if (!scope) return narrow;
  const uuids = new Set(narrow.uuids);
  const hosts = new Set(narrow.hosts);
  return { uuids: scope.uuids.filter((u) => uuids.has(u)), hosts: scope.hosts.filter((h) => hosts.has(h)) };
}
