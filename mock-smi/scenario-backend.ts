// `--scenario FILE [--host-index N]`: a backend playing one host of a scenario. Values are pure
// functions of the time since the scenario's epoch (its `start`, or the first invocation).

import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import {
  type Backend,
  DRIVER_NOT_LOADED,
  type GpuRow,
  lostGpuLine,
  NO_DEVICES,
  type TextTopic,
} from "./backend.js";
import { scenarioEpoch } from "./epoch.js";
import { catalogue, renderFieldHelp } from "./field-catalogue.js";
import { migUuidFor } from "./mig-layout.js";
import { APP_FIELDS, type FieldDef, type GpuState, scenarioFields } from "./scenario-fields.js";
import { type NvlinkGpu, nvlinkErrorsText, nvlinkStatusText } from "./scenario-health.js";
import type { HostSpec } from "./scenario-schema.js";
import { validateScenario } from "./scenario-schema.js";
import { gpuRow, gpuState, pmonLines, processRows, uuidFor } from "./scenario-state.js";
import { scenarioXml } from "./scenario-xml.js";

const NVLINK_TEXT: Record<string, (gpus: readonly NvlinkGpu[], t: number) => string> = {
  "-s": nvlinkStatusText,
  "-e": nvlinkErrorsText,
};

export async function loadScenarioBackend(
  path: string,
  hostIndex: number,
  now: () => number,
): Promise<Backend> {
  const { host, epochMs } = await loadScenarioHost(path, hostIndex, now);
  return scenarioBackend(host, epochMs);
}

/** One host of a scenario file and its time zero (shared with every other mock of that host). */
export async function loadScenarioHost(
  path: string,
  hostIndex: number,
  now: () => number,
): Promise<{ host: HostSpec; epochMs: number }> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`scenario ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const scenario = validateScenario(doc);
  if ("errors" in scenario)
    throw new Error(`scenario ${path} is invalid:\n  ${scenario.errors.join("\n  ")}`);
  const host = scenario.hosts[hostIndex];
  if (host === undefined) {
    throw new Error(`--host-index ${hostIndex}: scenario ${path} has ${scenario.hosts.length} host(s)`);
  }
  return { host, epochMs: scenario.startMs ?? scenarioEpoch(path, hostIndex, now()) };
}

/** The backend for one host whose time zero is `epochMs`. */
export function scenarioBackend(host: HostSpec, epochMs: number): Backend {
  const fields = scenarioFields(host.legacyThrottleNames);
  const gpuCatalogue = catalogue(fields.map((f) => f.names));
  const units = new Map<string, string>();
  for (const f of fields) if (f.unit !== undefined) units.set(f.names[0] ?? "", f.unit);
  const seconds = (nowMs: number): number => (nowMs - epochMs) / 1000;
  const at = (nowMs: number) => {
    const t = seconds(nowMs);
    return host.gpus.map((_, i) => {
      const state = gpuState(host, i, t, nowMs);
      return { state, row: gpuRow(host, state, fields, gpuCatalogue, t) };
    });
  };
  const snapshot = (nowMs: number) => {
    const gpus = at(nowMs);
    return { gpus: gpus.map((g) => g.row), processes: gpus.flatMap((g) => processRows(host, g.state)) };
  };
  const staticFault = host.faults.driverNotLoaded
    ? DRIVER_NOT_LOADED
    : host.faults.noDevices || host.gpus.length === 0
      ? NO_DEVICES
      : undefined;
  return {
    gpuTable: { fields: gpuCatalogue, units },
    appTable: {
      fields: catalogue(APP_FIELDS.map((f) => f.names)),
      units: new Map([["used_gpu_memory", "MiB"]]),
    },
    slowStartMs: host.faults.slowStartMs,
    staticFault,
    text: (topic, nowMs) => text(host, topic, fields, at(nowMs)),
    snapshot,
    health: (nowMs) => {
      const t = seconds(nowMs);
      const { crashAtS, hangAtS, crashExitCode } = host.faults;
      if (crashAtS !== undefined && t >= crashAtS) return { kind: "crash", exitCode: crashExitCode };
      if (hangAtS !== undefined && t >= hangAtS) return { kind: "hang" };
      return { kind: "ok" };
    },
    xml: (nowMs) => {
      const gpus = at(nowMs);
      return scenarioXml(host, nowMs, gpus, snapshot(nowMs).processes);
    },
    pmon: (nowMs) => at(nowMs).flatMap((g) => (g.row.lost ? [] : pmonLines(host, g.state))),
    // `nvlink -s`: links up at the model's speed, or none (no NVLink, MIG mode), or some down;
    // `nvlink -e`: their error counters (CRC errors growing after an nvlink_errors fault).
    verbatim: (args, nowMs) => {
      const text = args.length === 2 && args[0] === "nvlink" ? NVLINK_TEXT[args[1] ?? ""] : undefined;
      if (text === undefined) return undefined;
      const t = seconds(nowMs);
      const gpus = host.gpus.map((spec, index) => ({
        index,
        name: spec.model.name,
        uuid: uuidFor(host.name, index),
        mig: spec.mig !== undefined && spec.mig.length > 0,
        spec: spec.health,
      }));
      return { output: text(gpus, t), exitCode: 0 };
    },
  };
}

type GpuAt = { state: GpuState; row: GpuRow };

function text(
  host: HostSpec,
  topic: TextTopic,
  fields: readonly FieldDef[],
  gpus: readonly GpuAt[],
): string | undefined {
  switch (topic) {
    case "version": {
      const nvml = host.driverVersion.split(".").slice(0, 2).join(".");
      return [
        `NVIDIA-SMI version  : ${host.driverVersion}`,
        `NVML version        : ${nvml}`,
        `DRIVER version      : ${host.driverVersion}`,
        `CUDA Version        : ${host.cudaVersion}`,
        "",
      ].join("\n");
    }
    case "help-query-gpu":
      return `${renderFieldHelp("--query-gpu", fields)}\n`;
    case "help-query-compute-apps":
      return `${renderFieldHelp("--query-compute-apps", APP_FIELDS)}\n`;
    case "list":
      return listGpus(host, gpus);
    case "help":
      return undefined;
  }
}

/** `-L`: one line per GPU, MIG devices indented under their GPU (as in the MIG capture). */
function listGpus(host: HostSpec, gpus: readonly GpuAt[]): string {
  const lines: string[] = [];
  for (const { state, row } of gpus) {
    const spec = host.gpus[state.index];
    if (spec === undefined) continue;
    if (row.lost) {
      lines.push(lostGpuLine(state));
      continue;
    }
    lines.push(`GPU ${state.index}: ${spec.model.name} (UUID: ${state.uuid})`);
    for (const d of spec.mig ?? []) {
      const uuid = migUuidFor(state.uuid, d.listIndex);
      lines.push(`  MIG ${d.profile.padEnd(12)}Device ${String(d.deviceIndex).padStart(2)}: (UUID: ${uuid})`);
    }
  }
  return `${lines.join("\n")}\n`;
}
