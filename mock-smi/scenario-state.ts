// A scenario host at one moment: every GPU's readings, derived from the patterns (or from the
// utilization when a pattern is absent), and the rows the real tool would print. Pure.

import { createHash } from "node:crypto";
import type { GpuRow, ProcessRow } from "./backend.js";
import { formatTimestamp, withUnit } from "./csv-format.js";
import type { FieldCatalogue } from "./field-catalogue.js";
import { shutdownCelsius, slowdownCelsius } from "./models.js";
import { evaluate, type Pattern } from "./patterns.js";
import type { PmonLine } from "./pmon-format.js";
import type { FieldDef, GpuState } from "./scenario-fields.js";
import { pcieLinkAt, recoveryActionAt } from "./scenario-health.js";
import type { GpuSpec, HostSpec } from "./scenario-schema.js";

// PCI bus numbers of an 8-GPU HGX board, so ids look like a real server's.
const BUS_NUMBERS = [0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb];

export function busIdFor(index: number): string {
  const bus = BUS_NUMBERS[index] ?? 0xe0 + index;
  return `00000000:${bus.toString(16).toUpperCase().padStart(2, "0")}:00.0`;
}

function digest(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

export function uuidFor(hostName: string, index: number): string {
  const h = digest(`${hostName}#${index}`);
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function serialFor(hostName: string, index: number): string {
  const n = BigInt(`0x${digest(`serial#${hostName}#${index}`).slice(0, 12)}`) % 10n ** 9n;
  return `1650${n.toString().padStart(9, "0")}`;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const orElse = (p: Pattern | undefined, t: number, fallback: number): number =>
  p ? evaluate(p, t) : fallback;

/** One GPU's readings at `t` seconds after the epoch (`nowMs` is the wall clock for timestamps). */
export function gpuState(host: HostSpec, index: number, t: number, nowMs: number): GpuState {
  const spec = host.gpus[index] as GpuSpec;
  const m = spec.model;
  const util = clamp(orElse(spec.utilization, t, 0), 0, 100);
  const load = util / 100;
  const processMib = spec.processes.reduce((sum, p) => sum + p.usedMemoryMib, 0);
  const memUsedMib = clamp(orElse(spec.memoryUsed, t, processMib), 0, m.memoryTotalMib - m.memoryReservedMib);
  const temp = orElse(
    spec.temperature,
    t,
    m.temperature.idle + (m.temperature.load - m.temperature.idle) * load,
  );
  const powerW = clamp(
    orElse(spec.power, t, m.power.idle + (m.power.load - m.power.idle) * load),
    0,
    m.power.max,
  );
  const busy = util > 0;
  const held = busy || spec.processes.length > 0 || memUsedMib > 0;
  let eventReasons = busy ? 0 : 0x1;
  if (powerW >= m.power.default * 0.98) eventReasons |= 0x4;
  if (temp >= slowdownCelsius(m)) eventReasons |= 0x20;
  if (temp >= shutdownCelsius(m)) eventReasons |= 0x40 | 0x8;
  return {
    nowMs,
    index,
    count: host.gpus.length,
    busId: busIdFor(index),
    uuid: uuidFor(host.name, index),
    serial: m.hasSerial ? serialFor(host.name, index) : "[N/A]",
    hostName: host.name,
    driverVersion: host.driverVersion,
    model: m,
    mig: spec.mig !== undefined && spec.mig.length > 0,
    util,
    memUtil: clamp(orElse(spec.memoryUtilization, t, util * 0.4), 0, 100),
    memUsedMib,
    temp,
    powerW,
    smClock: busy ? m.clocks.maxSm : m.clocks.idleSm,
    memClock: held ? m.clocks.maxMemory : m.clocks.idleMemory,
    videoClock: busy ? m.clocks.maxVideo : m.clocks.idleVideo,
    pstate: held ? "P0" : m.idlePstate,
    eventReasons,
    pcie: pcieLinkAt(spec.health, m.pcie, t),
    recoveryAction: recoveryActionAt(spec.health, t),
  };
}

export function isLost(spec: GpuSpec, t: number): boolean {
  return spec.lostAtS !== undefined && t >= spec.lostAtS;
}

/** The GPU's row: every known field, then the scenario's `[N/A]` and raw overrides. */
export function gpuRow(
  host: HostSpec,
  state: GpuState,
  fields: readonly FieldDef[],
  catalogue: FieldCatalogue,
  t: number,
): GpuRow {
  const spec = host.gpus[state.index] as GpuSpec;
  const values = new Map<string, string>();
  for (const field of fields) values.set(field.names[0] ?? "", withUnit(field.value(state), field.unit));
  for (const name of spec.naFields) values.set(catalogue.resolve(name) ?? name, "[N/A]");
  for (const [name, text] of Object.entries(spec.rawValues))
    values.set(catalogue.resolve(name) ?? name, text);
  return { index: state.index, busId: state.busId, uuid: state.uuid, lost: isLost(spec, t), values };
}

export function processRows(host: HostSpec, state: GpuState): ProcessRow[] {
  const spec = host.gpus[state.index] as GpuSpec;
  return spec.processes.map((p) => ({
    gpuIndex: state.index,
    values: new Map([
      ["timestamp", formatTimestamp(state.nowMs)],
      ["gpu_name", state.model.name],
      ["gpu_bus_id", state.busId],
      ["gpu_serial", state.serial],
      ["gpu_uuid", state.uuid],
      ["pid", String(p.pid)],
      ["process_name", p.name],
      ["used_gpu_memory", `${Math.round(p.usedMemoryMib)} MiB`],
    ]),
  }));
}

/**
 * pmon's view of one GPU: the GPU's SM and memory utilization shared evenly by its compute
 * processes (`-` when the GPU is idle, as the real tool prints for unsampled processes), fb =
 * each process's memory; graphics-only processes sample nothing. A GPU without processes gets
 * the tool's "no process" row. Under MIG the real pmon samples nothing per process (the MIG
 * capture), so neither does this.
 */
export function pmonLines(host: HostSpec, state: GpuState): PmonLine[] {
  const spec = host.gpus[state.index] as GpuSpec;
  if (spec.processes.length === 0) return [{ gpuIndex: state.index, values: {} }];
  const compute = spec.processes.filter((p) => p.type !== "G").length;
  const sampled = state.util > 0 && !state.mig && compute > 0;
  return spec.processes.map((p) => {
    const values: Partial<Record<string, number>> = { fb: p.usedMemoryMib, ccpm: 0 };
    if (sampled && p.type !== "G") {
      values.sm = state.util / compute;
      values.mem = state.memUtil / compute;
    }
    return { gpuIndex: state.index, pid: p.pid, type: p.type, name: pmonName(p.name), values };
  });
}

/** pmon prints the executable's base name (the captures: `/root/tools/memhog` → `memhog`). */
function pmonName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}
