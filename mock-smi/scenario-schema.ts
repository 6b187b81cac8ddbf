// Validates a parsed scenario document into typed hosts and GPUs. Every problem is reported at
// once with its key path (`hosts[0].gpus[1].utilization.sine.period: ...`). Pure.
import { type MigDevice, migLayout } from "./mig-layout.js";
import { findModel, MODELS, type ModelPreset } from "./models.js";
import type { Pattern } from "./patterns.js";
import { Checker, type Obj } from "./scenario-checker.js";
import { checkHealth, type HealthSpec } from "./scenario-health.js";
import { checkXid, type XidSpec } from "./scenario-xid.js";

export interface ProcessSpec {
  pid: number;
  name: string;
  usedMemoryMib: number;
  /** pmon's type column: C (compute, the default), G (graphics) or C+G. */
  type: "C" | "G" | "C+G";
  /** On a MIG GPU: the entry of the GPU's `mig:` list it runs on (absent: -q -x says N/A). */
  migDevice?: number | undefined;
}

export interface GpuSpec {
  model: ModelPreset;
  utilization?: Pattern | undefined;
  memoryUtilization?: Pattern | undefined;
  temperature?: Pattern | undefined;
  power?: Pattern | undefined;
  memoryUsed?: Pattern | undefined;
  processes: ProcessSpec[];
  /** Fields (any accepted spelling) that print `[N/A]`. */
  naFields: string[];
  /** Field → exact text printed, for odd spellings (`ERR!`, `[Unknown Error]`, garbage). */
  rawValues: Record<string, string>;
  lostAtS?: number | undefined;
  /** MIG devices (from the `mig:` profiles, in device order): MIG mode on, utilization `[N/A]`. */
  mig?: MigDevice[] | undefined;
  /** Xid events for `gputel mock-kmsg` (the kernel-log stand-in). */
  xid?: XidSpec[] | undefined;
  /** Recovery action, PCIe link downgrade, NVLink links down, each from a time on. */
  health: HealthSpec;
}

export interface HostSpec {
  name: string;
  driverVersion: string;
  cudaVersion: string;
  /** Old drivers know only `clocks_throttle_reasons.*` (no `clocks_event_reasons.*`). */
  legacyThrottleNames: boolean;
  gpus: GpuSpec[];
  faults: {
    hangAtS?: number | undefined;
    crashAtS?: number | undefined;
    crashExitCode: number;
    slowStartMs: number;
    driverNotLoaded: boolean;
    noDevices: boolean;
  };
}

export interface Scenario {
  startMs?: number | undefined;
  hosts: HostSpec[];
}

const GPU_KEYS = [
  "model",
  "count",
  "utilization",
  "memory_utilization",
  "temperature",
  "power",
  "memory_used",
  "processes",
  "na_fields",
  "values",
  "lost_at",
  "mig",
  "stagger",
  "xid",
  "recovery_action",
  "pcie_downgrade",
  "nvlink_down",
  "nvlink_errors",
] as const;
const HOST_KEYS = [
  "name",
  "driver_version",
  "cuda_version",
  "legacy_throttle_names",
  "gpus",
  "faults",
] as const;
const FAULT_KEYS = [
  "hang_at",
  "crash_at",
  "crash_exit_code",
  "slow_start",
  "driver_not_loaded",
  "no_devices",
];

export function validateScenario(doc: unknown): Scenario | { errors: string[] } {
  const c = new Checker();
  const root = c.object(doc, "scenario", ["version", "start", ...HOST_KEYS, "hosts"]);
  if (root === undefined) return { errors: c.errors };
  let startMs: number | undefined;
  if (root.start !== undefined) {
    const text = root.start instanceof Date ? root.start.toISOString() : String(root.start);
    startMs = Date.parse(text);
    if (Number.isNaN(startMs)) c.fail("start", "expected an ISO 8601 time like 2026-07-14T08:00:00Z");
  }
  const hostDocs: { doc: unknown; path: string }[] = [];
  if (root.hosts !== undefined) {
    if (root.gpus !== undefined) c.fail("gpus", "give gpus inside hosts[], or drop hosts for a single host");
    if (!Array.isArray(root.hosts) || root.hosts.length === 0) c.fail("hosts", "expected a non-empty list");
    else for (const [i, h] of root.hosts.entries()) hostDocs.push({ doc: h, path: `hosts[${i}]` });
  } else {
    const single: Obj = {};
    for (const key of HOST_KEYS) if (root[key] !== undefined) single[key] = root[key];
    hostDocs.push({ doc: single, path: "scenario" });
  }
  const hosts = hostDocs.map(({ doc, path }, i) => host(c, doc, path, root, i));
  if (c.errors.length > 0) return { errors: c.errors };
  return { startMs, hosts: hosts.filter((h): h is HostSpec => h !== undefined) };
}

function host(c: Checker, doc: unknown, path: string, root: Obj, index: number): HostSpec | undefined {
  const h = c.object(doc, path, HOST_KEYS);
  if (h === undefined) return undefined;
  const at = (key: string) => (path === "scenario" ? key : `${path}.${key}`);
  const faults = h.faults === undefined ? {} : c.object(h.faults, at("faults"), FAULT_KEYS);
  const f = faults ?? {};
  const gpus: GpuSpec[] = [];
  if (!Array.isArray(h.gpus)) c.fail(at("gpus"), "expected a list of GPUs");
  else for (const [i, g] of h.gpus.entries()) gpus.push(...gpu(c, g, `${at("gpus")}[${i}]`));
  const optional = <T>(value: unknown, check: (v: unknown, p: string) => T | undefined, key: string) =>
    value === undefined ? undefined : check.call(c, value, at(`faults.${key}`));
  return {
    name: h.name === undefined ? `mock-host-${index}` : (c.string(h.name, at("name")) ?? ""),
    driverVersion:
      c.string(h.driver_version ?? root.driver_version ?? "590.48.01", at("driver_version")) ?? "",
    cudaVersion: c.string(h.cuda_version ?? root.cuda_version ?? "13.1", at("cuda_version")) ?? "",
    legacyThrottleNames: c.boolean(h.legacy_throttle_names ?? false, at("legacy_throttle_names")) ?? false,
    gpus,
    faults: {
      hangAtS: optional(f.hang_at, c.seconds, "hang_at"),
      crashAtS: optional(f.crash_at, c.seconds, "crash_at"),
      crashExitCode: optional(f.crash_exit_code, (v, p) => c.number(v, p, 1, 255), "crash_exit_code") ?? 255,
      slowStartMs: (optional(f.slow_start, c.seconds, "slow_start") ?? 0) * 1000,
      driverNotLoaded: optional(f.driver_not_loaded, c.boolean, "driver_not_loaded") ?? false,
      noDevices: optional(f.no_devices, c.boolean, "no_devices") ?? false,
    },
  };
}

function gpu(c: Checker, doc: unknown, path: string): GpuSpec[] {
  const g = c.object(doc, path, GPU_KEYS);
  if (g === undefined) return [];
  const modelName = c.string(g.model, `${path}.model`);
  const model = modelName === undefined ? undefined : findModel(modelName);
  if (modelName !== undefined && model === undefined) {
    c.fail(`${path}.model`, `unknown model '${modelName}' (known: ${MODELS.map((m) => m.name).join(", ")})`);
  }
  const count = g.count === undefined ? 1 : c.number(g.count, `${path}.count`, 1, 64);
  const processes: ProcessSpec[] = [];
  if (g.processes !== undefined && !Array.isArray(g.processes))
    c.fail(`${path}.processes`, "expected a list");
  const migCount = Array.isArray(g.mig) ? g.mig.length : 0;
  (Array.isArray(g.processes) ? g.processes : []).forEach((p, i) => {
    const pp = `${path}.processes[${i}]`;
    const o = c.object(p, pp, ["pid", "name", "used_memory", "type", "mig_device"]);
    if (o === undefined) return;
    const pid = c.number(o.pid, `${pp}.pid`, 1, 2 ** 31);
    const name = c.string(o.name, `${pp}.name`);
    const used = c.number(o.used_memory, `${pp}.used_memory`, 0, 4 * 1024 * 1024);
    const type = o.type === undefined ? "C" : c.string(o.type, `${pp}.type`);
    if (type !== undefined && type !== "C" && type !== "G" && type !== "C+G")
      c.fail(`${pp}.type`, `expected C, G or C+G, not '${type}'`);
    const migDevice =
      o.mig_device === undefined
        ? undefined
        : migCount === 0
          ? c.fail(`${pp}.mig_device`, "the GPU has no mig: devices")
          : Number.isInteger(o.mig_device)
            ? c.number(o.mig_device, `${pp}.mig_device`, 0, migCount - 1)
            : c.fail(`${pp}.mig_device`, `expected an entry of mig: (0 to ${migCount - 1})`);
    if (
      pid !== undefined &&
      name !== undefined &&
      used !== undefined &&
      (type === "C" || type === "G" || type === "C+G")
    )
      processes.push({ pid, name, usedMemoryMib: used, type, migDevice });
  });
  const strings = (value: unknown, p: string): string[] | undefined => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return c.fail(p, "expected a list of strings");
    return value.map((v, i) => c.string(v, `${p}[${i}]`) ?? "");
  };
  const rawValues: Record<string, string> = {};
  if (g.values !== undefined) {
    const o = c.object(g.values, `${path}.values`, Object.keys(g.values ?? {}));
    for (const [k, v] of Object.entries(o ?? {})) rawValues[k] = c.string(v, `${path}.values.${k}`) ?? "";
  }
  const mig = migDevices(c, strings(g.mig, `${path}.mig`), model, `${path}.mig`);
  const patterns = {
    utilization: c.pattern(g.utilization, `${path}.utilization`),
    memoryUtilization: c.pattern(g.memory_utilization, `${path}.memory_utilization`),
    temperature: c.pattern(g.temperature, `${path}.temperature`),
    power: c.pattern(g.power, `${path}.power`),
    memoryUsed: c.pattern(g.memory_used, `${path}.memory_used`),
    naFields: strings(g.na_fields, `${path}.na_fields`) ?? [],
    lostAtS: g.lost_at === undefined ? undefined : c.seconds(g.lost_at, `${path}.lost_at`),
  };
  const stagger = g.stagger === undefined ? false : c.boolean(g.stagger, `${path}.stagger`);
  if (model === undefined || count === undefined) return [];
  const spec: GpuSpec = {
    model,
    ...patterns,
    processes,
    rawValues,
    mig,
    xid: checkXid(c, g.xid, `${path}.xid`),
    health: checkHealth(c, g, path),
  };
  return Array.from({ length: count }, (_, k) => (stagger ? staggered(spec, k / count) : spec));
}

function migDevices(
  c: Checker,
  profiles: string[] | undefined,
  model: ModelPreset | undefined,
  path: string,
): MigDevice[] | undefined {
  if (profiles === undefined || model === undefined) return undefined;
  if (model.mig === undefined) return c.fail(path, `${model.name} has no MIG`);
  const layout = migLayout(model.mig, profiles);
  return "error" in layout ? c.fail(path, layout.error) : layout;
}

/** The k-th of `count` copies, its periodic patterns shifted by k/count of a period (`stagger: true`). */
function staggered(spec: GpuSpec, fraction: number): GpuSpec {
  const shift = (p: Pattern | undefined): Pattern | undefined => {
    if (p === undefined || fraction === 0) return p;
    if (p.kind === "sine" || p.kind === "square") return { ...p, phaseS: p.phaseS + fraction * p.periodS };
    if (p.kind === "ramp" && p.repeat) return { ...p, startS: p.startS - fraction * p.durationS };
    return p;
  };
  return {
    ...spec,
    utilization: shift(spec.utilization),
    memoryUtilization: shift(spec.memoryUtilization),
    temperature: shift(spec.temperature),
    power: shift(spec.power),
    memoryUsed: shift(spec.memoryUsed),
  };
}
