// Per-host state (arrival clock, interval, inventory, GPUs seen) and the host-level flags:
// stale (no frame for a few intervals, collector clock) and offline (last will or clean stop).
import { formatDuration } from "../../shared/duration.js";
import type { IGpuInfo, IStatus } from "../../shared/proto.js";
import type { NewFlag } from "./types.js";

export interface HostTrack {
  host: string;
  site: string;
  labels: Record<string, string>;
  /** The host's sampling interval (from frames or its online status); 0 until known. */
  intervalMs: number;
  /** Collector clock when its newest frame arrived. */
  lastArrivalMs: number;
  /** Latest inventory, by GPU UUID: the GPUs it should report, and each model's limits. */
  inventory: Record<string, IGpuInfo>;
  /** GPUs seen in its frames (the expected set until an inventory arrives). */
  seen: string[];
  /**
   * Whether a frame of the host reached this collector since the host last went offline. Where
   * collectors share the frames (broker.share_group), only such a host is this collector's to
   * judge stale: the others' frames go to another member (docs/scaling.md, "Which broker strategy").
   */
  framesHere: boolean;
  /**
   * Whether the host's frames were this collector's when the host last went offline (and none has
   * reached it since). The offline status clears every member's framesHere, but the host's GPUs'
   * event flags stay this member's until its frames come back (FlagEngine.holdsFrames).
   */
  heldAtOffline: boolean;
  /** Collector clock of the host's first online status since it last went offline; null while offline. */
  backOnlineMs: number | null;
}

export function newHost(host: string, site: string, labels: Record<string, string>): HostTrack {
  return {
    host,
    site,
    labels,
    intervalMs: 0,
    lastArrivalMs: 0,
    inventory: {},
    seen: [],
    framesHere: false,
    heldAtOffline: false,
    backOnlineMs: null,
  };
}

export function staleFlag(host: HostTrack, intervals: number, limitMs: number): NewFlag {
  const since = new Date(host.lastArrivalMs).toISOString();
  return {
    kind: "stale",
    severity: "warning",
    host: host.host,
    gpuUuid: null,
    gpuIndex: null,
    site: host.site,
    labels: host.labels,
    startMs: host.lastArrivalMs,
    reason: `No frame from ${host.host} for ${intervals} intervals (${formatDuration(limitMs)}); last one arrived at ${since}`,
    values: { interval_ms: host.intervalMs, intervals, last_arrival_ms: host.lastArrivalMs },
  };
}

export function offlineFlag(host: HostTrack, status: IStatus, atMs: number): NewFlag {
  const why = status.reason ?? "";
  const stopped = why === "stopped";
  const reason = stopped
    ? `Agent on ${host.host} stopped cleanly`
    : `Agent on ${host.host} went offline: ${why || "connection lost"} (MQTT last will)`;
  return {
    kind: "offline",
    severity: stopped ? "info" : "warning",
    host: host.host,
    gpuUuid: null,
    gpuIndex: null,
    site: host.site,
    labels: host.labels,
    startMs: atMs,
    reason,
    values: { status_reason: why || null, boot_id: status.boot_id || null },
  };
}
