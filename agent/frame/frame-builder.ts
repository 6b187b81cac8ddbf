// Turns one source reading into a wire Frame (pure: identity and counters are passed in).

import { type IFrame, type IHostSample, SCHEMA_VERSION } from "../../shared/proto.js";
import type { SourceSample } from "../sources/source.js";

export interface AgentIdentity {
  host: string;
  bootId: string;
  site: string;
  labels: Record<string, string>;
  intervalMs: number;
  agentVersion: string;
}

export class FrameBuilder {
  private seq = 0;
  private lastTimestampMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly identity: AgentIdentity) {}

  /** The sequence number the next frame will carry (1 for the first frame of a boot). */
  build(sample: SourceSample, hostSample: IHostSample | undefined, framesDropped: number): IFrame {
    this.seq += 1;
    const { host, bootId, site, labels, intervalMs, agentVersion } = this.identity;
    const timestampMs = this.distinctTime(sample.timestampMs, intervalMs);
    const frame: IFrame = {
      schema_version: SCHEMA_VERSION,
      host,
      boot_id: bootId,
      seq: this.seq,
      timestamp_ms: timestampMs,
      interval_ms: intervalMs,
      site,
      labels,
      gpus: sample.gpus,
      frames_dropped: framesDropped,
      agent_version: agentVersion,
    };
    if (hostSample) frame.host_sample = hostSample;
    if (sample.sourceError) frame.source_error = sample.sourceError;
    return frame;
  }

  /**
   * The collector takes (GPU, timestamp) as a sample's identity, so no two frames of a boot may
   * share a timestamp. A source stamps a reading with the time it was read: after a CPU stall
   * two nvidia-smi iterations arrive in one chunk with one read time. A time at or just behind
   * the previous frame's (less than an interval) moves 1 ms past it; a wall clock stepped back
   * further is followed as it is.
   */
  private distinctTime(sourceMs: number, intervalMs: number): number {
    const last = this.lastTimestampMs;
    const ts = sourceMs <= last && last - sourceMs < Math.max(intervalMs, 1) ? last + 1 : sourceMs;
    this.lastTimestampMs = ts;
    return ts;
  }
}
