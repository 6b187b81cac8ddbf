// Scenario health faults per GPU, each from a time on: `recovery_action: { at, action }` or a list
// of such changes in time order (what `-q -x` prints as gpu_recovery_action: None, Reset, Reboot,
// Drain P2P, Drain and Reset; a list lets it change over time as the real one does, e.g. Reset
// after an Xid 79 until the GPU is reset, then None again),
// `pcie_downgrade: { at, gen, width }` (the current link below the GPU's maximum in --query-gpu
// and -q -x), `nvlink_down: { at, links }` (that many links `<inactive>` in `nvlink -s`),
// `nvlink_errors: { at, per_minute }` (link 0's CRC errors in `nvlink -e` growing that fast). And
// the `nvlink -s` / `nvlink -e` texts in the real tool's layout (test/fixtures/nvidia-smi/captures,
// extra/). Pure.
import type { Checker } from "./scenario-checker.js";

/** From `atS` on, `-q -x` prints `action` as the GPU's recovery action (until the next change). */
export interface RecoveryActionChange {
  atS: number;
  action: string;
}

export interface HealthSpec {
  /** In time order; the action is None before the first change. */
  recoveryActions?: readonly RecoveryActionChange[] | undefined;
  pcieDowngrade?: { atS: number; gen: number; width: number } | undefined;
  nvlinkDown?: { atS: number; links: number } | undefined;
  nvlinkErrors?: { atS: number; perMinute: number } | undefined;
}

const ACTIONS = ["None", "Reset", "Reboot", "Drain P2P", "Drain and Reset"];

export function checkHealth(c: Checker, g: Record<string, unknown>, path: string): HealthSpec {
  const spec: HealthSpec = {};
  if (g.recovery_action !== undefined)
    spec.recoveryActions = checkRecoveryActions(c, g.recovery_action, `${path}.recovery_action`);
  if (g.pcie_downgrade !== undefined) {
    const o = c.object(g.pcie_downgrade, `${path}.pcie_downgrade`, ["at", "gen", "width"]);
    const atS = c.seconds(o?.at, `${path}.pcie_downgrade.at`);
    const gen = c.number(o?.gen, `${path}.pcie_downgrade.gen`, 1, 6);
    const width = c.number(o?.width, `${path}.pcie_downgrade.width`, 1, 16);
    if (atS !== undefined && gen !== undefined && width !== undefined)
      spec.pcieDowngrade = { atS, gen, width };
  }
  if (g.nvlink_down !== undefined) {
    const o = c.object(g.nvlink_down, `${path}.nvlink_down`, ["at", "links"]);
    const atS = c.seconds(o?.at, `${path}.nvlink_down.at`);
    const links = c.number(o?.links, `${path}.nvlink_down.links`, 1, 18);
    if (atS !== undefined && links !== undefined) spec.nvlinkDown = { atS, links };
  }
  if (g.nvlink_errors !== undefined) {
    const o = c.object(g.nvlink_errors, `${path}.nvlink_errors`, ["at", "per_minute"]);
    const atS = c.seconds(o?.at, `${path}.nvlink_errors.at`);
    const perMinute = c.number(o?.per_minute, `${path}.nvlink_errors.per_minute`, 0, 1e6);
    if (atS !== undefined && perMinute !== undefined) spec.nvlinkErrors = { atS, perMinute };
  }
  return spec;
}

/**
 * `recovery_action:` as one change (`{ at, action }`, the original form) or a list of changes whose
 * times increase. Problems are recorded on the checker under the key path; undefined when any.
 */
function checkRecoveryActions(c: Checker, value: unknown, path: string): RecoveryActionChange[] | undefined {
  if (!Array.isArray(value)) {
    if (typeof value !== "object" || value === null)
      return c.fail(path, "expected { at, action } or a list of { at, action }");
    const change = checkRecoveryAction(c, value, path);
    return change && [change];
  }
  if (value.length === 0) return c.fail(path, "expected at least one { at, action }");
  const errorsBefore = c.errors.length;
  const changes: RecoveryActionChange[] = [];
  for (const [i, item] of value.entries()) {
    const change = checkRecoveryAction(c, item, `${path}[${i}]`);
    if (change === undefined) continue;
    const previous = changes.at(-1);
    if (previous && change.atS <= previous.atS)
      c.fail(`${path}[${i}].at`, `times must increase (after ${previous.atS}s)`);
    changes.push(change);
  }
  return c.errors.length === errorsBefore ? changes : undefined;
}

function checkRecoveryAction(c: Checker, value: unknown, path: string): RecoveryActionChange | undefined {
  const o = c.object(value, path, ["at", "action"]);
  if (o === undefined) return undefined;
  const atS = c.seconds(o.at, `${path}.at`);
  const action = c.string(o.action, `${path}.action`);
  if (action !== undefined && !ACTIONS.includes(action))
    return c.fail(`${path}.action`, `expected one of ${ACTIONS.join(", ")}`);
  return atS !== undefined && action !== undefined ? { atS, action } : undefined;
}

/** The recovery action `-q -x` prints at time t: the latest change due, else None. */
export function recoveryActionAt(spec: HealthSpec, t: number): string {
  let action = "None";
  for (const change of spec.recoveryActions ?? []) {
    if (change.atS > t) break;
    action = change.action;
  }
  return action;
}

/** The current PCIe link at time t: the model's maximum, or the downgrade once it applies. */
export function pcieLinkAt(spec: HealthSpec, max: { gen: number; width: number }, t: number) {
  const d = spec.pcieDowngrade;
  return d && t >= d.atS ? { gen: Math.min(d.gen, max.gen), width: Math.min(d.width, max.width) } : max;
}

/** Links and speed of the models with NVLink (captures: H100 18 × 26.562 GB/s; gpud: A100 12 × 25). */
const NVLINK: Record<string, { links: number; speed: string }> = {
  "NVIDIA H100 80GB HBM3": { links: 18, speed: "26.562 GB/s" },
  "NVIDIA A100-SXM4-80GB": { links: 12, speed: "25 GB/s" },
};

export interface NvlinkGpu {
  index: number;
  name: string;
  uuid: string;
  mig: boolean;
  spec: HealthSpec;
}

/** Per GPU: its header, then its link lines, or the line saying why it has none. */
function nvlinkText(
  gpus: readonly NvlinkGpu[],
  linkLines: (gpu: NvlinkGpu, links: number, speed: string) => string[],
): string {
  const out: string[] = [];
  for (const gpu of gpus) {
    out.push(`GPU ${gpu.index}: ${gpu.name} (UUID: ${gpu.uuid})`);
    const nvlink = NVLINK[gpu.name];
    if (gpu.mig) out.push("Nvlink queries are not supported for Devices in MIG mode");
    else if (!nvlink) out.push("Device does not have or support Nvlink");
    else out.push(...linkLines(gpu, nvlink.links, nvlink.speed));
  }
  return `${out.join("\n")}\n`;
}

/** `nvidia-smi nvlink -s` for the host's GPUs at time t. */
export function nvlinkStatusText(gpus: readonly NvlinkGpu[], t: number): string {
  return nvlinkText(gpus, (gpu, links, speed) => {
    const down = gpu.spec.nvlinkDown && t >= gpu.spec.nvlinkDown.atS ? gpu.spec.nvlinkDown.links : 0;
    return Array.from(
      { length: links },
      (_, link) => `\t Link ${link}: ${link >= links - down ? "<inactive>" : speed}`,
    );
  });
}

/** `nvidia-smi nvlink -e` at time t: replay, recovery and CRC errors per link (extra/nvlink_e_*). */
export function nvlinkErrorsText(gpus: readonly NvlinkGpu[], t: number): string {
  return nvlinkText(gpus, (gpu, links) => {
    const e = gpu.spec.nvlinkErrors;
    const crc = e && t >= e.atS ? Math.floor(((t - e.atS) / 60) * e.perMinute) : 0;
    return Array.from({ length: links }, (_, link) => [
      `\t Link ${link}: Replay Errors: 0`,
      `\t Link ${link}: Recovery Errors: 0`,
      `\t Link ${link}: CRC Errors: ${link === 0 ? crc : 0}`,
    ]).flat();
  });
}
