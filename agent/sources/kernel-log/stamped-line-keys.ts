// Keys for plain kernel-log lines that carry the kernel's `[seconds.micros]` stamp (source.ts).

/** Events one stamp keys apart: the driver prints a burst of Xids (one per GPU) within microseconds. */
export const KEYS_PER_STAMP = 8;

/**
 * A stamped line's key is its stamp in µs times KEYS_PER_STAMP, plus the order in which its text
 * first came among the events of that stamp in this reader run. Two Xids printed in the same
 * microsecond (other GPUs, other codes) keep apart, and a run that reads the same lines again, in
 * the file's order, gives each the key it had before, so the collector stores it once.
 */
export class StampedLineKeys {
  private stampUs = -1;
  private texts: string[] = [];

  seq(monotonicUs: number, text: string): number {
    if (monotonicUs !== this.stampUs) {
      this.stampUs = monotonicUs;
      this.texts = [];
    }
    let order = this.texts.indexOf(text);
    if (order < 0) order = this.texts.push(text) - 1;
    // A ninth event in one microsecond shares the last key: more than the kernel prints that fast.
    return monotonicUs * KEYS_PER_STAMP + Math.min(order, KEYS_PER_STAMP - 1);
  }
}
