// Exponential backoff, one formula for every retry loop that backs off: nvidia-smi restarts, the
// agent's MQTT reconnects and refused publishes, the ingest pipeline's store retries, alert
// deliveries and remote_write. (The collector's external-broker client is not one: it reconnects at
// mqtt.js's fixed period, collector/broker/external.ts.) Pure.

/** min, 2·min, 4·min… capped at max; attempt counts from 0. */
export function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
}
