// The retained status message: the agent's state, and the health of its sources (their
// supervisors' counters), which the collector stores and /metrics shows. Pure.
import { type ISourceStatus, type IStatus, SCHEMA_VERSION } from "../../shared/proto.js";
import type { SourceHealth } from "../sources/source.js";

export interface StatusIdentity {
  host: string;
  bootId: string;
  agentVersion: string;
  intervalMs: number;
}

export function statusMessage(
  identity: StatusIdentity,
  state: number,
  reason: string,
  nowMs: number,
  sources: readonly ISourceStatus[],
): IStatus {
  return {
    schema_version: SCHEMA_VERSION,
    host: identity.host,
    state,
    timestamp_ms: nowMs,
    boot_id: identity.bootId,
    reason,
    agent_version: identity.agentVersion,
    interval_ms: identity.intervalMs,
    sources: [...sources],
  };
}

export function sourceStatus(health: SourceHealth): ISourceStatus {
  return {
    name: health.name,
    restarts: health.restarts,
    timeouts: health.timeouts,
    exits: health.exits,
    stuck_children: health.stuckChildren,
    start_failures: health.startFailures,
    last_error: health.lastError.slice(0, 1024),
    last_error_ms: health.lastErrorMs,
    stuck: health.stuck,
  };
}
