// The agent's main loop: wires a GPU source, the events sources (kernel log), the host source and
// a publisher together.
// Judges nothing: it reports raw, unit-normalised readings (docs/design.md §1).
import { randomUUID } from "node:crypto";
import { errorMessage } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { IFrame, IGpuInfo, IGpuSample, IHealthEvent, IHostSample } from "../shared/proto.js";
import { type AgentIdentity, FrameBuilder } from "./frame/frame-builder.js";
import type { ProcessWatch } from "./holders/process-watch.js";
import type { HostSource } from "./host/host-source.js";
import { buildInventory, inventoryFingerprint } from "./inventory-message.js";
import type { FramePublisher } from "./publish/publisher.js";
import type { EventSource, GpuSource, SourceSample } from "./sources/source.js";

export interface AgentOptions {
  identity: Omit<AgentIdentity, "bootId"> & { bootId?: string };
  source: GpuSource;
  /** Events sources (the kernel log): started once the GPUs are known, their events to the sink. */
  events?: EventSource[];
  /** The processes source: started with the GPU source, its sets to the sink. */
  processes?: ProcessWatch;
  host: HostSource;
  sink: FramePublisher;
  inventoryIntervalMs: number;
  logger: Logger;
  now?: () => number;
  /** How long the events sources wait for a first sample (to map bus ids) before starting anyway. */
  eventsStartDelayMs?: number;
  /** Called after every frame (systemd watchdog pings, readiness, tests). */
  onFrame?: (frame: IFrame) => void;
}

export class Agent {
  private readonly builder: FrameBuilder;
  private readonly identity: AgentIdentity;
  private hostSample: IHostSample | undefined;
  private hostRefresh: Promise<void> | undefined;
  private inventoryTimer: NodeJS.Timeout | undefined;
  private inventoryRun: Promise<void> | undefined;
  private lastInventory = "";
  private stopped = false;
  /** The GPUs seen so far, by index: what events map their PCI bus ids to, and MIG mode (processes). */
  private readonly gpus = new Map<
    number,
    { index: number; uuid: string; pciBusId: string; migMode: boolean }
  >();
  private eventsStart: Promise<void> | undefined;
  private eventsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentOptions) {
    this.identity = { ...options.identity, bootId: options.identity.bootId ?? randomUUID() };
    this.builder = new FrameBuilder(this.identity);
  }

  get bootId(): string {
    return this.identity.bootId;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.refreshHost();
    // Sampling first: the inventory's one-shot (nvidia-smi -q -x, the slowest) must not queue
    // ahead of the source's start-up and delay the first frame.
    await this.options.source.start((sample) => this.onSample(sample));
    await this.options.processes?.start({
      host: this.identity.host,
      bootId: this.identity.bootId,
      publish: (set) => this.options.sink.publishProcesses?.(set) ?? false,
      gpus: () => [...this.gpus.values()],
    });
    if (this.options.events?.length) {
      // Normally the first sample starts them (its GPUs map the events' bus ids); without one
      // (nvidia-smi failing), the kernel log matters most: start anyway, unmapped.
      this.eventsTimer = setTimeout(() => this.startEvents(), this.options.eventsStartDelayMs ?? 10_000);
      this.eventsTimer.unref();
    }
    this.scheduleInventory();
    this.inventoryTimer = setInterval(() => this.scheduleInventory(), this.options.inventoryIntervalMs);
    this.inventoryTimer.unref();
  }

  /** One inventory read at a time; a tick while one runs is skipped. */
  private scheduleInventory(): void {
    this.inventoryRun ??= this.refreshInventory().finally(() => {
      this.inventoryRun = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.inventoryTimer) clearInterval(this.inventoryTimer);
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    await this.eventsStart;
    await Promise.all((this.options.events ?? []).map((source) => source.stop()));
    await this.options.processes?.stop();
    await this.options.source.stop();
    await Promise.allSettled([this.inventoryRun, this.hostRefresh]);
  }

  private startEvents(): void {
    const sources = this.options.events ?? [];
    if (this.eventsStart || this.stopped || sources.length === 0) return;
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    const sink = {
      publish: (events: IHealthEvent[]) => this.options.sink.publishEvents?.(events) ?? false,
      gpus: () => [...this.gpus.values()].map(({ index, uuid, pciBusId }) => ({ index, uuid, pciBusId })),
    };
    this.eventsStart = Promise.all(sources.map((source) => source.start(sink))).then(() => undefined);
  }

  /**
   * Keeps the GPUs' bus ids for the events sources (only GPUs that report one) and their MIG mode
   * for the processes source (a reading without it keeps the last one known).
   */
  private noteGpus(gpus: readonly (IGpuSample | IGpuInfo)[]): void {
    for (const gpu of gpus) {
      if (!gpu.uuid || !gpu.pci_bus_id) continue;
      const index = gpu.index ?? 0;
      const known = this.gpus.get(index);
      const migMode = gpu.mig_mode ?? (known?.uuid === gpu.uuid ? known.migMode : false);
      if (known?.uuid !== gpu.uuid || known.pciBusId !== gpu.pci_bus_id || known.migMode !== migMode)
        this.gpus.set(index, { index, uuid: gpu.uuid, pciBusId: gpu.pci_bus_id, migMode });
    }
  }

  private onSample(sample: SourceSample): void {
    if (this.stopped) return;
    this.noteGpus(sample.gpus);
    this.startEvents();
    const frame = this.builder.build(sample, this.hostSample, this.options.sink.droppedTotal());
    this.options.sink.publishFrame(frame);
    this.options.onFrame?.(frame);
    // Host readings are taken between frames so that sampling never waits on them.
    this.hostRefresh ??= this.refreshHost().finally(() => {
      this.hostRefresh = undefined;
    });
  }

  private async refreshHost(): Promise<void> {
    try {
      this.hostSample = await this.options.host.sample();
    } catch (error) {
      this.hostSample = undefined;
      this.options.logger.warn({ err: errorMessage(error) }, "Host sample failed");
    }
  }

  private async refreshInventory(): Promise<void> {
    const now = this.options.now ?? Date.now;
    const [source, hostInfo] = await Promise.allSettled([
      this.options.source.inventory(),
      this.options.host.info(),
    ]);
    const error = source.status === "rejected" ? errorMessage(source.reason) : undefined;
    if (this.stopped) return; // its child was killed by the stop: nothing to report or publish
    if (error) this.options.logger.warn({ code: "GPUTEL_E_INVENTORY", err: error }, "Inventory failed");
    const inventory = buildInventory(
      this.identity,
      source.status === "fulfilled" ? source.value : undefined,
      hostInfo.status === "fulfilled" ? hostInfo.value : undefined,
      error,
      now(),
    );
    if (source.status === "fulfilled") this.noteGpus(source.value.gpus);
    const fingerprint = inventoryFingerprint(inventory);
    if (fingerprint === this.lastInventory) return;
    this.lastInventory = fingerprint;
    this.options.sink.publishInventory(inventory);
  }
}
