// The spool's size bound (pure): which of the oldest frames to drop so a new one fits.

export interface SizedEntry {
  id: number;
  size: number;
}

export interface EvictionPlan {
  ids: number[];
  freedBytes: number;
  /** True when the candidates given did not free enough (the caller fetches more, or gives up). */
  short: boolean;
}

/** Bytes that must go before `incomingBytes` more fit under `maxBytes` (0 when they already fit). */
export function excessBytes(totalBytes: number, incomingBytes: number, maxBytes: number): number {
  return Math.max(0, totalBytes + incomingBytes - maxBytes);
}

/**
 * Picks the oldest candidates (given oldest first) until `needBytes` are freed, skipping those
 * `skip` says to keep (frames in flight: their PUBACK is probably on its way).
 */
export function planEviction(
  candidates: readonly SizedEntry[],
  needBytes: number,
  skip: (id: number) => boolean = () => false,
): EvictionPlan {
  const ids: number[] = [];
  let freedBytes = 0;
  for (const entry of candidates) {
    if (freedBytes >= needBytes) break;
    if (skip(entry.id)) continue;
    ids.push(entry.id);
    freedBytes += entry.size;
  }
  return { ids, freedBytes, short: freedBytes < needBytes };
}
