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

  constructor(private readonly identity: AgentIdentity) {}

  /** The sequence number the next frame will carry (1 for the first frame of a boot). */
  build(sample: SourceSample, hostSample: IHostSample | undefined, framesDropped: number): IFrame {
    this.seq += 1;
    const { host, bootId, site, labels, intervalMs, agentVersion } = this.identity;
    const frame: IFrame = {
      schema_version: SCHEMA_VERSION,
      host,
      boot_id: bootId,
      seq: this.seq,
      timestamp_ms: sample.timestampMs,
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
}
