// One collector's share of the fleet health report (HEALTH_PART_PATH): its Xid events by report
// group, each with the key its store keeps it unique by (host, kernel boot, sequence), its lost,
// reset-required and error episodes, the models of the GPUs they name and its leases. Kernel-log
// events reach every collector of a share group, so collectors' counts cannot be added; with the
// keys the asking collector counts each event once (collector/merge/merge-health-report.ts).
import type { HealthPart, HealthPartGroup } from "../contract/api-contract.js";
import type { Flag } from "../flags/types.js";
import { emptyEventGroup, eventGroupKey, type GroupedEventKey } from "../store/event-store.js";
import type { Store } from "../store/store.js";

/** Xid events a part carries keys for (about 20 bytes each); past it, each group's count only. */
export const HEALTH_PART_EVENTS = 200_000;
/** Leases a part carries (about 150 bytes each); past it the oldest, and the part says so. */
export const HEALTH_PART_LEASES = 100_000;

export interface HealthPartInput {
  store: Store;
  fromMs: number;
  toMs: number;
  nowMs: number;
  /** The episodes the report reads (lost, reset-required, error), as the local report reads them. */
  flags: Flag[];
  modelOf: (uuid: string) => string;
}

export function healthPart(input: HealthPartInput): HealthPart {
  const { store, fromMs, toMs, nowMs, flags } = input;
  const events = store.events();
  const keys = events.keys(fromMs, toMs, HEALTH_PART_EVENTS + 1);
  const groups: HealthPartGroup[] =
    keys.length > HEALTH_PART_EVENTS
      ? events.groups(fromMs, toMs).map((g) => ({ ...g, keys: null }))
      : keyedGroups(keys);
  const models: Record<string, string> = {};
  for (const uuid of [...groups.map((g) => g.gpuUuid), ...flags.map((f) => f.gpuUuid)]) {
    const model = uuid ? input.modelOf(uuid) : "";
    if (uuid && model) models[uuid] = model;
  }
  const leases = store.leases.list({ fromMs, toMs, limit: HEALTH_PART_LEASES + 1 });
  return {
    fromMs,
    toMs,
    nowMs,
    groups,
    flags,
    models,
    leases: leases.slice(0, HEALTH_PART_LEASES).map(({ id, gpu, tenant, startMs, endMs }) => ({
      id,
      gpu,
      tenant,
      startMs,
      endMs,
    })),
    ...(leases.length > HEALTH_PART_LEASES ? { leasesCut: true as const } : {}),
  };
}

/** Events ordered by group, boot and sequence (EventStore.keys) → one entry per group. */
function keyedGroups(keys: readonly GroupedEventKey[]): HealthPartGroup[] {
  const out: HealthPartGroup[] = [];
  let key = "";
  let group: HealthPartGroup | undefined;
  for (const k of keys) {
    if (!group || eventGroupKey(k) !== key) {
      key = eventGroupKey(k);
      group = { ...emptyEventGroup(k, k.timeMs, k.timeMs), keys: [] };
      out.push(group);
    }
    group.count += 1;
    group.firstMs = Math.min(group.firstMs, k.timeMs);
    group.lastMs = Math.max(group.lastMs, k.timeMs);
    const boots = group.keys ?? [];
    const last = boots[boots.length - 1];
    if (last?.boot === k.kernelBootId) last.seqs.push(k.kernelSeq);
    else boots.push({ boot: k.kernelBootId, seqs: [k.kernelSeq] });
  }
  return out;
}
