// One CSV line of `--query-gpu` output → one GpuSample. Pure. Columns are found either by the
// query order (noheader, the hot path) or by a header line's names (output with a header and
// units, as in the fixture captures). One bad field never spoils the others.
import type { MetricDef } from "../../../shared/metrics.js";
import { AbsentReason, GpuState, type IAbsence, type IGpuSample } from "../../../shared/proto.js";
import { IDENTITY_FIELDS, type QueryPlan } from "./discovery.js";
import { metricValue, noValueReason, parseMetricValue } from "./values.js";

export interface RowLayout {
  /** Number of columns a well-formed line has. */
  columns: number;
  indexCol: number;
  uuidCol: number;
  busIdCol: number;
  metrics: { def: MetricDef; col: number }[];
  /** Reported absent with NOT_QUERIED on every row. */
  notQueried: MetricDef[];
}

/** nvidia-smi separates values with ", " and never quotes; none of the queried fields contains a comma. */
export function splitCsvLine(line: string): string[] {
  return line.split(", ");
}

/** Layout of `--format=csv,noheader` output for `plan`: columns in query order. */
export function layoutFromPlan(plan: QueryPlan): RowLayout {
  const base = IDENTITY_FIELDS.length;
  return {
    columns: plan.fields.length,
    indexCol: 1,
    uuidCol: 2,
    busIdCol: 3,
    metrics: plan.metrics.map((m, i) => ({ def: m.def, col: base + i })),
    notQueried: plan.notQueried,
  };
}

/** Header name without its unit suffix: `memory.used [MiB]` → `memory.used`. */
export function headerName(cell: string): string {
  return cell.replace(/\s*\[[^\]]*\]\s*$/, "").trim();
}

/**
 * Layout of output that carries a header line (`--format=csv`): each metric's column is found by
 * name, trying the plan's spelling then the catalogue's other spellings. Undefined when the
 * header lacks the identity columns.
 */
export function layoutFromHeader(header: string, plan: QueryPlan): RowLayout | undefined {
  const names = splitCsvLine(header.trim()).map(headerName);
  const col = (name: string) => names.indexOf(name);
  const indexCol = col("index");
  const uuidCol = col("uuid") >= 0 ? col("uuid") : col("gpu_uuid");
  const busIdCol = col("pci.bus_id") >= 0 ? col("pci.bus_id") : col("gpu_bus_id");
  if (indexCol < 0 || uuidCol < 0 || busIdCol < 0) return undefined;
  const metrics: RowLayout["metrics"] = [];
  const notQueried = [...plan.notQueried];
  for (const m of plan.metrics) {
    const spellings = [m.field, ...m.def.smiFields.filter((f) => f !== m.field)];
    const found = spellings.map(col).find((c) => c >= 0);
    if (found === undefined) notQueried.push(m.def);
    else metrics.push({ def: m.def, col: found });
  }
  return { columns: names.length, indexCol, uuidCol, busIdCol, metrics, notQueried };
}

const INDEX = /^\d{1,4}$/;

/**
 * Parses one data line. Undefined when the line is not a row of this layout (wrong column count,
 * no index): the caller counts it as garbage.
 */
export function parseRow(line: string, layout: RowLayout): IGpuSample | undefined {
  // Not trimmed as a whole: an empty last field is printed as a trailing `, ` (each cell is trimmed).
  const cols = splitCsvLine(line);
  if (cols.length !== layout.columns) return undefined;
  const indexText = cols[layout.indexCol]?.trim() ?? "";
  if (!INDEX.test(indexText)) return undefined;
  const sample: IGpuSample = {
    index: Number(indexText),
    uuid: cols[layout.uuidCol]?.trim() ?? "",
    pci_bus_id: cols[layout.busIdCol]?.trim() ?? "",
    state: GpuState.GPU_STATE_OK,
  };
  const values = sample as Record<string, unknown>;
  const absent: IAbsence[] = [];
  let lostFields = 0;
  // Indexed, not for…of: the agent runs --jitless, where each iteration's result object is an allocation.
  const metrics = layout.metrics;
  for (let i = 0; i < metrics.length; i += 1) {
    const { def, col } = metrics[i] as RowLayout["metrics"][number];
    const raw = cols[col] ?? "";
    // The fast reading first; parseMetricValue, the one answer, where it finds no value.
    const fast = metricValue(raw, def);
    const parsed = fast === undefined ? parseMetricValue(raw, def) : undefined;
    const value = parsed?.ok ? parsed.value : fast;
    if (value !== undefined) {
      values[def.key] = def.kind === "bool" ? value === 1 : value;
    } else if (parsed && !parsed.ok) {
      absent.push({ metric: def.id, reason: parsed.reason });
      if (isLostText(raw)) lostFields += 1;
    }
  }
  // A GPU that fell off the bus can still get a row whose every value reads "GPU is lost".
  if (layout.metrics.length > 0 && lostFields === layout.metrics.length) {
    return { index: sample.index, uuid: sample.uuid, pci_bus_id: sample.pci_bus_id, ...lostState(line) };
  }
  for (const def of layout.notQueried) {
    absent.push({ metric: def.id, reason: AbsentReason.ABSENT_REASON_NOT_QUERIED });
  }
  sample.absent = absent;
  return sample;
}

function isLostText(raw: string): boolean {
  return noValueReason(raw.trim()) !== undefined && /gpu is lost/i.test(raw);
}

function lostState(detail: string): Pick<IGpuSample, "state" | "state_detail" | "absent"> {
  return { state: GpuState.GPU_STATE_LOST, state_detail: detail.trim(), absent: [] };
}
