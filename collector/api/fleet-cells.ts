// The compact fleet answer a wall screen polls (GET /api/v1/fleet/cells): per GPU only what a
// cell draws, as columns of small numbers, and the slowly changing layout (UUIDs, hosts, sites,
// labels, models) only when asked. At 10,000 GPUs a poll is ~10^5 bytes before compression and
// a few 10^4 after, where the full GPU list is ~10 MB. Columns follow the layout's GPU order
// (host name, then index); `layoutVersion` changes whenever that order or a placement does,
// so a client holding an older layout asks for it again.
import { createHash } from "node:crypto";
import type { GpuView } from "../contract/api-contract.js";
import type { FlagKind } from "../flags/types.js";
import { FLAG_KINDS } from "../flags/types.js";

/** One GPU as the cells need it: a GpuView without inventory (host-level flags included). */
export type CellSource = Pick<GpuView, "uuid" | "host" | "index" | "model" | "site" | "labels" | "values"> & {
  state: string;
  flags: readonly { kind: FlagKind }[];
};

/** State codes: index into this list. "unknown": no sample yet. */
export const CELL_STATES = ["ok", "unknown", "timeout", "lost", "error", "unspecified"] as const;
/** Usage class codes of the latest sample (the rollups' rule): index into this list. */
export const CELL_USAGE = ["unknown", "busy", "idle", "idle_held"] as const;
export type CellUsage = (typeof CELL_USAGE)[number];

export interface FleetLayout {
  sites: string[];
  models: string[];
  hosts: { name: string[]; site: number[]; labels: Record<string, string>[] };
  gpus: { uuid: string[]; host: number[]; index: number[]; model: number[] };
}

export interface FleetCells {
  generatedMs: number;
  layoutVersion: string;
  /** Bit i of a flag mask is kinds[i]. */
  kinds: readonly FlagKind[];
  states: readonly string[];
  usage: readonly string[];
  gpus: {
    /** State code (CELL_STATES). */
    state: number[];
    /** Usage class code (CELL_USAGE); unknown while the host has an open stale/offline flag. */
    usage: number[];
    /** Utilization %, rounded; null when absent. */
    util: (number | null)[];
    /** GPU temperature °C, rounded; null when absent. */
    temp: (number | null)[];
    /** Open-flag kinds as a bit mask; host-level flags count for every GPU of their host. */
    flags: number[];
  };
  layout?: FleetLayout;
}

const HOST_DOUBT: ReadonlySet<FlagKind> = new Set(["stale", "offline"]);

/** A digest of the placement of every GPU (native SHA-1: a JavaScript loop over 10^6 characters costs tens of ms). */
function fingerprint(gpus: readonly CellSource[]): string {
  const hash = createHash("sha1");
  // A host's labels are one object shared by its GPUs: serialized once per host, not per GPU.
  const labelText = new Map<object, string>();
  for (const g of gpus) {
    let labels = labelText.get(g.labels);
    if (labels === undefined) {
      labels = JSON.stringify(g.labels);
      labelText.set(g.labels, labels);
    }
    hash.update(`${g.uuid}|${g.host}|${g.index}|${g.model}|${g.site}|${labels}\n`);
  }
  return hash.digest("hex").slice(0, 16);
}

const round = (v: number | undefined) => (v === undefined ? null : Math.round(v));

export function buildFleetCells(
  source: readonly CellSource[],
  classify: (g: CellSource) => CellUsage,
  options: { nowMs: number; layout: boolean },
): FleetCells {
  const gpus = [...source].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.index - b.index));
  const bit = new Map(FLAG_KINDS.map((k, i) => [k, 1 << i]));
  const stateCode = new Map<string, number>(CELL_STATES.map((s, i) => [s, i]));
  const usageCode = new Map<string, number>(CELL_USAGE.map((s, i) => [s, i]));
  const cols: FleetCells["gpus"] = { state: [], usage: [], util: [], temp: [], flags: [] };
  for (const g of gpus) {
    let mask = 0;
    for (const f of g.flags) mask |= bit.get(f.kind) ?? 0;
    const doubt = g.flags.some((f) => HOST_DOUBT.has(f.kind));
    cols.state.push(stateCode.get(g.state) ?? stateCode.get("unspecified") ?? 5);
    cols.usage.push(doubt ? 0 : (usageCode.get(classify(g)) ?? 0));
    cols.util.push(round(g.values.utilization_gpu_pct));
    cols.temp.push(round(g.values.temperature_gpu_celsius));
    cols.flags.push(mask);
  }
  const layoutVersion = fingerprint(gpus);
  return {
    generatedMs: options.nowMs,
    layoutVersion,
    kinds: FLAG_KINDS,
    states: CELL_STATES,
    usage: CELL_USAGE,
    gpus: cols,
    ...(options.layout ? { layout: cachedLayout(layoutVersion, gpus) } : {}),
  };
}

/** The last layout built, reused while the version holds (every screen asks for it at start). */
let lastLayout: { version: string; layout: FleetLayout } | undefined;
function cachedLayout(version: string, gpus: readonly CellSource[]): FleetLayout {
  if (lastLayout?.version !== version) lastLayout = { version, layout: layoutOf(gpus) };
  return lastLayout.layout;
}

function layoutOf(gpus: readonly CellSource[]): FleetLayout {
  const sites: string[] = [];
  const models: string[] = [];
  const siteIdx = new Map<string, number>();
  const modelIdx = new Map<string, number>();
  const index = (list: string[], map: Map<string, number>, v: string) => {
    let i = map.get(v);
    if (i === undefined) {
      i = list.length;
      list.push(v);
      map.set(v, i);
    }
    return i;
  };
  const layout: FleetLayout = {
    sites,
    models,
    hosts: { name: [], site: [], labels: [] },
    gpus: { uuid: [], host: [], index: [], model: [] },
  };
  const hostIdx = new Map<string, number>();
  for (const g of gpus) {
    let h = hostIdx.get(g.host);
    if (h === undefined) {
      h = layout.hosts.name.length;
      hostIdx.set(g.host, h);
      layout.hosts.name.push(g.host);
      layout.hosts.site.push(index(sites, siteIdx, g.site));
      layout.hosts.labels.push({ ...g.labels });
    }
    layout.gpus.uuid.push(g.uuid);
    layout.gpus.host.push(h);
    layout.gpus.index.push(g.index);
    layout.gpus.model.push(index(models, modelIdx, g.model));
  }
  return layout;
}
