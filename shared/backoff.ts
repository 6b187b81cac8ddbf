// Exponential backoff, one formula for every retry loop (nvidia-smi restarts, alert deliveries,
// remote_write). Pure.

/** min, 2·min, 4·min… capped at max; attempt counts from 0. */
export function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
}
