// Frames per second per host (limits.max_frames_per_second): one token bucket per host, refilled at
// the limit, holding one full batch at most, so a replay batch passes at once and a flood does not.
// Buckets that have refilled are forgotten, so hosts that come and go (or garbage host topics)
// cannot grow the map: at most `maxTracked` hosts are tracked between sweeps.
import { TokenBucket } from "../../shared/token-bucket.js";

export class RateGate {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly capacity: number;

  constructor(
    private readonly framesPerSecond: number,
    maxFramesPerBatch: number,
    private readonly maxTracked = 20_000,
  ) {
    this.capacity = Math.max(framesPerSecond, maxFramesPerBatch);
  }

  /** Takes `frames` tokens from the host's bucket; false (nothing taken) when they are not there. */
  admit(host: string, frames: number, nowMs: number): boolean {
    let bucket = this.buckets.get(host);
    if (!bucket) {
      if (this.buckets.size >= this.maxTracked) this.sweep(nowMs);
      // Still full of busy hosts: admit without tracking rather than evict someone's state.
      if (this.buckets.size >= this.maxTracked) return frames <= this.capacity;
      bucket = new TokenBucket(this.framesPerSecond, this.capacity);
      this.buckets.set(host, bucket);
    }
    return bucket.tryTake(frames, nowMs) && frames <= this.capacity;
  }

  get tracked(): number {
    return this.buckets.size;
  }

  /** Forgets full buckets: a new one starts full, so forgetting them changes no decision. */
  private sweep(nowMs: number): void {
    for (const [host, bucket] of this.buckets) {
      if (bucket.available(nowMs) >= this.capacity - 1e-9) this.buckets.delete(host);
    }
  }
}
