// The one small interface every GPU data source implements (nvidia-smi today; DCGM or NVML later),
// in the manner of node_exporter's collectors or Telegraf's inputs. Sources report raw,
// unit-normalised readings and judge nothing.
import type { IGpuInfo, IGpuSample, IHealthEvent } from "../../shared/proto.js";
import type { ComputeRowsListener } from "./nvidia-smi/compute-poller.js";
import type { SourceHealth } from "./supervisor/health.js";

export type { SourceHealth } from "./supervisor/health.js";

/** One reading of every GPU on the host, taken at one moment. */
export interface SourceSample {
  /** Agent clock (ms since the epoch) when the reading was taken. */
  timestampMs: number;
  /**
   * One entry per GPU. A GPU that could not be read is still listed, with state
   * TIMEOUT / LOST / ERROR and no values (never the previous values).
   */
  gpus: IGpuSample[];
  /** Set when the whole source failed (driver not loaded, binary missing): the message as printed. */
  sourceError?: string;
}

/** Slow-changing facts about the GPUs, read off the hot path. */
export interface SourceInventory {
  driverVersion: string;
  cudaVersion: string;
  /** Output schema the facts came from (for nvidia-smi: the -q -x DTD, e.g. "nvsmi_device_v12"). */
  schema: string;
  gpus: IGpuInfo[];
}

export interface GpuSource {
  /** Registry name, used in configuration and logs ("nvidia-smi"). */
  readonly name: string;
  /**
   * Starts sampling every `intervalMs`; `onSample` is called once per interval with either a
   * reading or a failure (all GPUs TIMEOUT/ERROR). Resolves once the source is running or has
   * reported its start-up failure through `onSample`; never rejects for hardware faults.
   */
  start(onSample: (sample: SourceSample) => void): Promise<void>;
  /** Stops sampling and reaps every child process. */
  stop(): Promise<void>;
  /** Reads inventory (with its own timeout). Rejects with a GputelError(GPUTEL_E_INVENTORY) on failure. */
  inventory(): Promise<SourceInventory>;
  /** The source's own counters, where it has a supervisor (see SourceHealth). */
  health?(): SourceHealth;
  /** Hands each successful compute-process poll's rows on (the processes source's input). */
  onComputeRows?(listener: ComputeRowsListener): void;
}

/** Where an events source hands its events, and what it asks of the agent. */
export interface EventSink {
  /**
   * Stores the events durably (the agent's event spool) and publishes them. true once they are
   * on disk; false when they could not be stored: the source reads them again later.
   */
  publish(events: IHealthEvent[]): boolean;
  /** The agent's GPUs now, by PCI bus id as nvidia-smi prints it (`00000000:18:00.0`). */
  gpus(): readonly { index: number; uuid: string; pciBusId: string }[];
}

/** A source of events (the kernel log): not sampled each interval, but read as things happen. */
export interface EventSource {
  /** Registry name ("kernel-log"). */
  readonly name: string;
  /** Starts reading; resolves once the reader runs or its start-up failure is reported. */
  start(sink: EventSink): Promise<void>;
  /** Stops reading and reaps the reader. */
  stop(): Promise<void>;
  health?(): SourceHealth;
}
