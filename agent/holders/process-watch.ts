// The `processes` source: who holds each GPU. It takes the nvidia-smi source's compute-process
// rows (each successful `--query-compute-apps` poll), the last interval of its own long-lived pmon
// child, /proc (user, start, workload) and, on GPUs in MIG mode, the MIG device of each process
// (mig-lookup.ts), builds one record per process, and hands a ProcessSet
// to the agent's sink when the set of process lives changes and every refresh period. Records,
// never labels on series.
import type { Logger } from "../../shared/logger.js";
import type { IProcessSet } from "../../shared/proto.js";
import type { ComputeAppRow } from "../sources/nvidia-smi/compute-apps.js";
import type { SourceHealth } from "../sources/supervisor/health.js";
import { type LookupGpu, MigLookup } from "./mig-lookup.js";
import { PmonStream } from "./pmon-stream.js";
import type { UserPrivacy } from "./privacy.js";
import { type HolderInfo, ProcReader } from "./proc-reader.js";
import { ProcessSetPlan } from "./process-message.js";
import { buildHolderRecords } from "./records.js";

export interface ProcessWatchOptions {
  /** nvidia-smi's argv, for the pmon child. */
  command: readonly string[];
  /** pmon's interval in seconds (1..10). */
  pmonPeriodS: number;
  procRoot: string;
  passwdPath: string;
  privacy: { users: UserPrivacy; salt: string };
  refreshMs: number;
  maxProcesses: number;
  /** Timeout of the MIG lookup's `-L` and `-q -x` (the agent's inventory_timeout). */
  migTimeoutMs: number;
  logger: Logger;
}

/** Where the process sets go, and what the agent knows of its GPUs. */
export interface ProcessSink {
  /** Stores the set durably and publishes it; false when it could not be stored. */
  publish(set: IProcessSet): boolean;
  /** The agent's GPUs; `migMode` from the samples decides which need a MIG lookup. */
  gpus(): readonly LookupGpu[];
  host: string;
  bootId: string;
}

export class ProcessWatch {
  readonly name = "processes";
  private readonly pmon: PmonStream;
  private readonly reader: ProcReader;
  private readonly mig: MigLookup;
  private readonly log: Logger;
  private sink: ProcessSink | undefined;
  private plan: ProcessSetPlan | undefined;
  /** Rows that arrived while a previous set was still being built: only the newest is kept. */
  private pending: { rows: readonly ComputeAppRow[]; atMs: number } | undefined;
  private busy = false;
  /** What the last set's /proc reads found, by pid (see keepGoneLives). */
  private lastHolders: ReadonlyMap<number, HolderInfo> = new Map();
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProcessWatchOptions) {
    this.log = options.logger.child({ component: "agent.processes" });
    this.pmon = new PmonStream({
      command: options.command,
      periodS: options.pmonPeriodS,
      logger: options.logger,
    });
    this.reader = new ProcReader({ procRoot: options.procRoot, passwdPath: options.passwdPath });
    // The MIG lookup's one-shots run in their own lane of the pmon child's supervisor: one at a
    // time, timed out, reaped, and waited for by stop().
    this.mig = new MigLookup({
      command: options.command,
      timeoutMs: options.migTimeoutMs,
      run: (argv, timeoutMs) => this.pmon.sup.oneShot(argv, timeoutMs, "mig"),
      retryMs: options.refreshMs,
      now: () => this.pmon.sup.now(),
      logger: this.log,
    });
  }

  async start(sink: ProcessSink): Promise<void> {
    this.sink = sink;
    this.plan = new ProcessSetPlan(
      { refreshMs: this.options.refreshMs, maxProcesses: this.options.maxProcesses },
      { host: sink.host, bootId: sink.bootId },
    );
    await this.pmon.start();
  }

  async stop(): Promise<void> {
    this.sink = undefined;
    await this.pmon.stop();
    await this.settled();
  }

  health(): SourceHealth {
    return this.pmon.health();
  }

  /** Resolves once no set is being built (what stop() waits for; tests wait on it too). */
  settled(): Promise<void> {
    return this.idle;
  }

  /** One successful compute-process poll (the nvidia-smi source's rows). */
  update(rows: readonly ComputeAppRow[], atMs: number): void {
    this.pending = { rows, atMs };
    if (this.busy || !this.sink) return;
    this.busy = true;
    this.idle = this.drain().finally(() => {
      this.busy = false;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending && this.sink && this.plan) {
      const { rows, atMs } = this.pending;
      this.pending = undefined;
      try {
        await this.buildAndSend(rows, atMs, this.sink, this.plan);
      } catch (error) {
        this.log.error({ err: error }, "Process set failed");
      }
    }
  }

  private async buildAndSend(
    rows: readonly ComputeAppRow[],
    atMs: number,
    sink: ProcessSink,
    plan: ProcessSetPlan,
  ): Promise<void> {
    const holders = keepGoneLives(await this.reader.readAll(rows.map((r) => r.pid)), this.lastHolders);
    this.lastHolders = holders;
    const gpus = sink.gpus();
    const mig = await this.mig.places(rows, gpus, (pid) => holders.get(pid)?.startMs);
    const pmon = this.pmon.last();
    const records = buildHolderRecords({
      rows,
      gpuIndex: new Map(gpus.map((g) => [g.uuid, g.index])),
      mig,
      pmon: "sample" in pmon ? pmon.sample : undefined,
      ...("missing" in pmon ? { pmonMissing: pmon.missing } : {}),
      holders,
      privacy: this.options.privacy,
    });
    const set = plan.next(records, atMs);
    if (set === undefined) return;
    if (set.truncated)
      this.log.warn(
        { processes: records.length, max: this.options.maxProcesses },
        "More compute processes than processes.max_per_message; the set is cut",
      );
    sink.publish(set);
  }
}

/**
 * A pid whose /proc entry is gone by the read (it exited after nvidia-smi listed it) keeps what
 * the last poll read of that pid. Without its start the record would name a new, start-less
 * process life, and the collector would open a second session for the one process.
 */
function keepGoneLives(
  read: Map<number, HolderInfo>,
  last: ReadonlyMap<number, HolderInfo>,
): Map<number, HolderInfo> {
  for (const [pid, info] of read) {
    const before = last.get(pid);
    if (info.startMs === undefined && info.problems.includes("stat: ENOENT") && before?.startMs !== undefined)
      read.set(pid, before);
  }
  return read;
}
