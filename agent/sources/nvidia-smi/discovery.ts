// Field discovery: which --query-gpu fields this driver's nvidia-smi knows, and the query built
// from them. Asking for an unknown field makes nvidia-smi refuse the whole query, so only known
// spellings are asked for (old drivers: clocks_throttle_reasons.*, new: clocks_event_reasons.*).
import { METRICS, type MetricDef } from "../../../shared/metrics.js";

/** Always queried first, in this order: they identify the row. */
export const IDENTITY_FIELDS = ["timestamp", "index", "uuid", "pci.bus_id"] as const;

export interface MetricField {
  def: MetricDef;
  /** The spelling asked for (and the name nvidia-smi prints in a CSV header). */
  field: string;
}

export interface QueryPlan {
  /** Every field, in query order: IDENTITY_FIELDS then the metric fields. */
  fields: string[];
  /** Metrics read from the stream, in query order (column = IDENTITY_FIELDS.length + position). */
  metrics: MetricField[];
  /** Metrics with --query-gpu spellings that this driver knows none of: absent, NOT_QUERIED. */
  notQueried: MetricDef[];
}

// A field line of `--help-query-gpu` is nothing but quoted names: `"name"` or `"name" or "alias"`.
const FIELD_LINE = /^"[^"]+"(?:\s+or\s+"[^"]+")*\s*$/;
const QUOTED = /"([^"]+)"/g;

/** Reads the set of field names (aliases included) from `nvidia-smi --help-query-gpu` output. */
export function parseHelpQueryGpu(text: string): Set<string> {
  const known = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!FIELD_LINE.test(line)) continue;
    for (const m of line.matchAll(QUOTED)) if (m[1]) known.add(m[1]);
  }
  return known;
}

/**
 * Chooses, for every metric of the catalogue, the first spelling in `smiFields` that the driver
 * knows. Metrics with no --query-gpu spelling (compute processes) are neither queried nor
 * reported NOT_QUERIED here: another query fills them.
 */
export function planQuery(known: ReadonlySet<string>): QueryPlan {
  const metrics: MetricField[] = [];
  const notQueried: MetricDef[] = [];
  for (const def of METRICS) {
    if (def.smiFields.length === 0) continue;
    const field = def.smiFields.find((f) => known.has(f));
    if (field === undefined) notQueried.push(def);
    else metrics.push({ def, field });
  }
  return { fields: [...IDENTITY_FIELDS, ...metrics.map((m) => m.field)], metrics, notQueried };
}

/**
 * The plan without `field`, its metric NOT_QUERIED: for a field that `--help-query-gpu` lists but
 * the driver refuses to query (nvidia-smi then refuses the whole query). Undefined when `field` is
 * not one of the plan's metric fields (an identity field cannot be done without).
 */
export function withoutField(plan: QueryPlan, field: string): QueryPlan | undefined {
  const dropped = plan.metrics.find((m) => m.field === field);
  if (dropped === undefined) return undefined;
  const metrics = plan.metrics.filter((m) => m !== dropped);
  return {
    fields: [...IDENTITY_FIELDS, ...metrics.map((m) => m.field)],
    metrics,
    notQueried: [...plan.notQueried, dropped.def],
  };
}

/** The argument for `--query-gpu=`. */
export function queryArgument(plan: QueryPlan): string {
  return plan.fields.join(",");
}

/**
 * Used when `--help-query-gpu` printed nothing recognisable (a driver with another help format):
 * spellings that every driver of the last decade accepts, so the stream still starts.
 */
export const FALLBACK_KNOWN: ReadonlySet<string> = new Set([
  ...IDENTITY_FIELDS,
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "clocks.sm",
  "clocks.mem",
  "fan.speed",
  "pstate",
]);
