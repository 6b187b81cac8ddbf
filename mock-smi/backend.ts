// What the command engine needs from a source of fake GPU data: a capture being replayed or a
// scenario being played. Both answer in the real tool's spellings; the engine does the rest.
import type { FieldCatalogue } from "./field-catalogue.js";
import type { PmonLine } from "./pmon-format.js";

export interface GpuRow {
  index: number;
  /** `00000000:01:00.0`, as `pci.bus_id` prints it. */
  busId: string;
  uuid: string;
  /** Lost GPUs print the device-handle error line instead of a row. */
  lost: boolean;
  /**
   * Canonical field name → value as printed with units ("69.85 W", "[N/A]"). `timestamp` is the
   * one-shot value (replay: the capture's own); loops replace it with the clock's time.
   */
  values: ReadonlyMap<string, string>;
}

export interface ProcessRow {
  gpuIndex: number;
  values: ReadonlyMap<string, string>;
}

export interface Snapshot {
  gpus: readonly GpuRow[];
  processes: readonly ProcessRow[];
}

/** A table the source can answer: its accepted names and each canonical field's unit. */
export interface QueryTable {
  fields: FieldCatalogue;
  units: ReadonlyMap<string, string>;
}

export type TextTopic = "version" | "help" | "help-query-gpu" | "help-query-compute-apps" | "list";

/** What the source does at a moment: answer, hang like a wedged driver, or die. */
export type Health = { kind: "ok" } | { kind: "hang" } | { kind: "crash"; exitCode: number };

export interface StaticFault {
  /** Printed (to stdout, like the real tool) before exiting with `exitCode`. */
  message: string;
  exitCode: number;
}

export interface Backend {
  gpuTable: QueryTable;
  appTable: QueryTable;
  /** Delay before the first output of every invocation. */
  slowStartMs: number;
  /** Driver not loaded, no devices: the whole invocation fails at once. */
  staticFault: StaticFault | undefined;
  text(topic: TextTopic, nowMs: number): string | undefined;
  snapshot(nowMs: number): Snapshot;
  health(nowMs: number): Health;
  xml(nowMs: number): string;
  /** Per-process lines for `pmon` at a moment (scenarios); replay answers pmon verbatim instead. */
  pmon?: (nowMs: number) => PmonLine[];
  /** Output for arguments the engine does not model (replay: a section with exactly these args). */
  verbatim(args: readonly string[], nowMs: number): { output: string; exitCode: number } | undefined;
}

/** `Unable to determine the device handle for GPU1: 0000:34:00.0: Unknown Error` (driver 610 spelling). */
export function lostGpuLine(gpu: Pick<GpuRow, "index" | "busId">): string {
  return `Unable to determine the device handle for GPU${gpu.index}: ${shortBusId(gpu.busId)}: Unknown Error`;
}

/** `00000000:34:00.0` → `0000:34:00.0` (error lines use the 4-digit domain). */
export function shortBusId(busId: string): string {
  const [domain = "", ...rest] = busId.split(":");
  return [domain.slice(-4).padStart(4, "0"), ...rest].join(":");
}

export const DRIVER_NOT_LOADED: StaticFault = {
  message:
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
  exitCode: 9,
};

export const NO_DEVICES: StaticFault = { message: "No devices were found\n", exitCode: 6 };
