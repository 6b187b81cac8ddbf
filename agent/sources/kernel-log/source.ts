// The kernel-log source: follows the kernel log through one long-lived reader (kernel_log.command:
// `journalctl -k -f -n all -o json` by default, or anything printing /dev/kmsg records or log
// lines), under the shared supervisor (relaunch with backoff, never two readers). Each NVRM Xid
// or NVSwitch SXid line becomes a HealthEvent, handed to the agent's event spool; the position
// (boot id, sequence) is saved in the state directory only once the spool has the event, so a
// restart resumes without duplicates and without losing anything (resume.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../../shared/logger.js";
import type { IHealthEvent } from "../../../shared/proto.js";
import type { EventSink, EventSource, SourceHealth } from "../source.js";
import type { StreamChild } from "../supervisor/child-process.js";
import type { Clock } from "../supervisor/clock.js";
import { SourceSupervisor } from "../supervisor/supervisor.js";
import { busKey, type EventContext, type GpuAddress, toHealthEvent } from "./health-event.js";
import { normaliseBootId, readRecord } from "./record.js";
import { loadPosition, type ResumePosition, savePosition, seenBefore } from "./resume.js";
import { StampedLineKeys } from "./stamped-line-keys.js";
import { parseKernelLogLine } from "./xid-line.js";

export interface KernelLogOptions {
  command: string[];
  stateDirectory: string;
  logger: Logger;
  clock?: Clock;
  /** /proc/sys/kernel/random/boot_id and /proc/uptime (tests give their own). */
  bootIdFile?: string;
  uptimeFile?: string;
}

// A quiet kernel log is healthy: the reader is never killed for silence.
const NO_SILENCE_LIMIT = Number.MAX_SAFE_INTEGER;

export class KernelLogSource implements EventSource {
  readonly name = "kernel-log";
  private readonly supervisor: SourceSupervisor;
  private readonly log: Logger;
  private readonly statePath: string;
  private sink: EventSink | undefined;
  private position: ResumePosition | undefined;
  private bootId = "";
  private bootTimeMs = 0;
  /** Lines without a position of their own (plain text) are numbered per reader run. */
  private lineNumber = 0;
  /** The reader's launch time in µs: where this run's plain-line numbers start (plainLineSeq). */
  private runBase = 0;
  private stamped = new StampedLineKeys();
  private published = 0;
  /** The reader's last line (stdout or stderr): what it said before exiting. */
  private lastLine = "";
  /** The reader whose event the spool refused: killed, its remaining lines ignored. */
  private refused: StreamChild | undefined;
  private reader: StreamChild | undefined;

  constructor(private readonly options: KernelLogOptions) {
    this.log = options.logger.child({ component: "agent.kernel-log" });
    this.statePath = join(options.stateDirectory, "kernel-log.json");
    this.supervisor = new SourceSupervisor({
      source: this.name,
      logger: this.log,
      launch: async () => this.launch(),
      codes: { timeout: "GPUTEL_E_KERNEL_LOG", stuck: "GPUTEL_E_KERNEL_LOG_STUCK" },
      watchEveryMs: 60_000,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }

  /** Events handed to the spool since start. */
  get publishedTotal(): number {
    return this.published;
  }

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
    this.position = loadPosition(this.statePath);
    await this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  health(): SourceHealth {
    return this.supervisor.stats();
  }

  private launch(): void {
    this.readKernelIdentity();
    this.lineNumber = 0;
    this.runBase = this.supervisor.now() * 1000;
    this.stamped = new StampedLineKeys();
    this.refused = undefined;
    this.reader = this.supervisor.startStream({
      argv: this.options.command,
      onLine: (line) => this.onLine(line),
      firstRecordTimeoutMs: NO_SILENCE_LIMIT,
      recordTimeoutMs: NO_SILENCE_LIMIT,
      onTimeout: () => {},
      onExit: (info) => ({
        code: "GPUTEL_E_KERNEL_LOG",
        detail: this.refused
          ? "the event spool did not take an event; the log is read again from the saved position"
          : info.error
            ? `${this.options.command[0]}: ${info.error.message}`
            : `${this.options.command.join(" ")} exited (${info.signal ?? info.code}); last line: ${this.lastLine.slice(0, 200)}`,
      }),
    });
  }

  /** The running kernel's boot id and boot time, read again at each launch (cheap; a reboot restarts us anyway). */
  private readKernelIdentity(): void {
    const read = (path: string) => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return "";
      }
    };
    this.bootId = normaliseBootId(read(this.options.bootIdFile ?? "/proc/sys/kernel/random/boot_id")) ?? "";
    const uptimeS = Number.parseFloat(read(this.options.uptimeFile ?? "/proc/uptime"));
    const now = this.supervisor.now();
    this.bootTimeMs = Number.isFinite(uptimeS) ? now - Math.round(uptimeS * 1000) : now;
  }

  private onLine(line: string): void {
    if (this.refused) return;
    this.lineNumber += 1;
    this.lastLine = line;
    const record = readRecord(line);
    // Any line at all shows the reader works (the watchdog never fires; healthy-since does).
    this.supervisor.progress();
    const event = parseKernelLogLine(record.text);
    if (!event) return;
    const bootId = record.bootId ?? this.bootId;
    // A journal without -b can reach back into earlier boots: those events are not new.
    if (record.bootId !== null && this.bootId !== "" && record.bootId !== this.bootId) return;
    const seq = record.seq ?? this.plainLineSeq(event.monotonicUs, record.text);
    if (record.seq !== null && seenBefore(this.position, bootId, seq)) return;
    const healthEvent = toHealthEvent(event, record, seq, this.context());
    this.hand(healthEvent, record.seq === null ? undefined : { bootId, seq });
  }

  /**
   * A plain line's sequence number, its key at the collector with host and boot: each reader run
   * starts at its first line again (`tail -F` prints the file's tail), so a bare line number would
   * give a new Xid an old one's key, and the collector would drop it as a duplicate. Where the line
   * has the kernel's own `[seconds.micros]` stamp (dmesg, syslog's `kernel: [ …]`), StampedLineKeys:
   * the same line read again keeps its key and is stored once. Else the run's launch time in µs
   * plus the line's number: no other run's (it would have to read 1000 lines a millisecond), and,
   * at ~1.8e15, above every stamped key of a boot younger than seven years.
   */
  private plainLineSeq(monotonicUs: number | null, text: string): number {
    return monotonicUs === null ? this.runBase + this.lineNumber : this.stamped.seq(monotonicUs, text);
  }

  private context(): EventContext {
    const gpus = new Map<string, GpuAddress>();
    for (const gpu of this.sink?.gpus() ?? [])
      gpus.set(busKey(gpu.pciBusId), { index: gpu.index, uuid: gpu.uuid });
    return { bootId: this.bootId, bootTimeMs: this.bootTimeMs, nowMs: this.supervisor.now(), gpus };
  }

  private hand(event: IHealthEvent, position: ResumePosition | undefined): void {
    if (!this.sink?.publish([event])) {
      // Not stored: stop this reader (its exit is reported and relaunched after backoff), and
      // read the log again from the saved position: nothing is skipped.
      this.refused = this.reader;
      this.reader?.kill();
      return;
    }
    this.published += 1;
    if (
      event.gpu_uuid === "" &&
      event.kind === 1 &&
      this.supervisor.admitLog(`unmapped:${event.pci_bus_id}`) !== undefined
    )
      this.log.warn(
        { pci_bus_id: event.pci_bus_id, code: event.code },
        "Xid for a bus id no GPU of the inventory has; reported unmapped",
      );
    if (!position) return;
    this.position = position;
    try {
      savePosition(this.statePath, position);
    } catch (error) {
      if (this.supervisor.admitLog("save-position") !== undefined)
        this.log.warn(
          { err: String(error), path: this.statePath },
          "Kernel-log position not saved; a restart may re-send events",
        );
    }
  }
}
