// Exponential backoff, one formula for every retry loop that backs off: nvidia-smi restarts, MQTT
// reconnects (the agent's and the collector's external-broker client: mqtt-reconnect.ts) and the
// agent's refused publishes, the ingest pipeline's store retries, alert deliveries and
// remote_write. Pure.

/** min, 2·min, 4·min… capped at max; attempt counts from 0. */
export function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
}

/**
 * `ms` stretched by up to half again, at random: clients that lost the same broker at the same
 * moment (a restart of it) then come back spread over that half, not all in one instant. Never
 * shorter than `ms`, so a backoff's floor stays what it says. `random` returns [0, 1).
 */
export function jitteredMs(ms: number, random: () => number = Math.random): number {
  return ms + Math.floor(random() * (ms / 2));
}
