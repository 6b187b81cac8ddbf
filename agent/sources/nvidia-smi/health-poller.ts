// The slow health polls beside the hot path: `nvidia-smi -q -x` every health_interval (recovery
// action, PCIe replays), and `nvidia-smi nvlink -s` (links down, below speed) then `nvlink -e`
// (error counters) every nvlink_interval. `-q -x` has its own supervisor lane, the two NVLink
// commands share one (one child at a time in each, with a timeout), never in the sampling
// stream. Their latest readings fill the samples while fresh: within 3 periods (absent ERROR
// past that, NOT_QUERIED before the first poll).

import type { Logger } from "../../../shared/logger.js";
import type { MetricKey } from "../../../shared/metrics.js";
import { AbsentReason, type IGpuSample } from "../../../shared/proto.js";
import type { OneShotResult } from "../supervisor/child-process.js";
import {
  applyReadings,
  byIndex,
  nvlinkErrorReadings,
  nvlinkReadings,
  type ReadingsFor,
  xmlReadings,
} from "./health-readings.js";
import { readHealth } from "./health-xml.js";
import { parseNvlinkErrors, parseNvlinkStatus } from "./nvlink.js";
import { convertSmiXml } from "./xml-query.js";

export type RunInLane = (argv: string[], timeoutMs: number, kind: string) => Promise<OneShotResult>;

interface Poll {
  kind: string;
  /** The supervisor lane it runs in: polls of one lane never run two children at once. */
  lane: string;
  args: string[];
  keys: readonly MetricKey[];
  periodMs: number;
  read(stdout: string): Promise<ReadingsFor>;
  last?: { at: number; readings: ReadingsFor };
  inFlight: boolean;
  failures: number;
}

export interface HealthPollerOptions {
  command: readonly string[];
  healthIntervalMs: number;
  nvlinkIntervalMs: number;
  timeoutMs: number;
  run: RunInLane;
  log: Logger;
  now: () => number;
}

export class HealthPoller {
  readonly polls: Poll[];

  constructor(private readonly options: HealthPollerOptions) {
    this.polls = [
      {
        kind: "health-xml",
        lane: "health-xml",
        args: ["-q", "-x"],
        keys: ["gpu_recovery_action", "pcie_replay_count"],
        periodMs: options.healthIntervalMs,
        read: async (stdout) => {
          const { doc, schema } = await convertSmiXml(stdout);
          return xmlReadings(readHealth(doc, schema));
        },
        inFlight: false,
        failures: 0,
      },
      {
        kind: "nvlink",
        lane: "nvlink",
        args: ["nvlink", "-s"],
        keys: ["nvlink_links_down", "nvlink_links_below_speed"],
        periodMs: options.nvlinkIntervalMs,
        read: async (stdout) => byIndex(nvlinkReadings(parseNvlinkStatus(stdout))),
        inFlight: false,
        failures: 0,
      },
      {
        kind: "nvlink-errors",
        lane: "nvlink",
        args: ["nvlink", "-e"],
        keys: ["nvlink_errors"],
        periodMs: options.nvlinkIntervalMs,
        read: async (stdout) => byIndex(nvlinkErrorReadings(parseNvlinkErrors(stdout))),
        inFlight: false,
        failures: 0,
      },
    ];
  }

  /** Runs one poll now (a tick while it runs is skipped). Never rejects. */
  async poll(kind: string): Promise<void> {
    const poll = this.polls.find((p) => p.kind === kind);
    if (!poll || poll.inFlight) return;
    poll.inFlight = true;
    try {
      const result = await this.options.run(
        [...this.options.command, ...poll.args],
        this.options.timeoutMs,
        poll.lane,
      );
      // nvlink -s and -e exit non-zero on GPUs without NVLink yet say so per GPU on stdout: read it.
      const failed = result.error ?? (result.timedOut ? new Error("timed out") : undefined);
      if (failed || result.stdout.trim() === "")
        throw failed ?? new Error(result.stderr.trim().slice(0, 200) || "no output");
      const readings = await poll.read(result.stdout);
      poll.last = { at: this.options.now(), readings };
      poll.failures = 0;
    } catch (error) {
      if (poll.failures++ === 0)
        this.options.log.warn(
          { poll: kind, err: error instanceof Error ? error.message : String(error) },
          "Health poll failed",
        );
    } finally {
      poll.inFlight = false;
    }
  }

  apply(gpus: IGpuSample[]): void {
    const now = this.options.now();
    for (const poll of this.polls) {
      const fresh = poll.last && now - poll.last.at <= 3 * poll.periodMs ? poll.last.readings : undefined;
      const reason = poll.last ? AbsentReason.ABSENT_REASON_ERROR : AbsentReason.ABSENT_REASON_NOT_QUERIED;
      applyReadings(gpus, poll.keys, fresh, reason);
    }
  }
}
