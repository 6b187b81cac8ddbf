// The newest frames, kept in memory as they were appended, so that a live frame goes out from the
// bytes in hand instead of being read back from the file it was just written to (a SELECT and its
// read-lock calls per frame). Only what is also in the file is kept here: a frame enters after its
// append committed and leaves when it leaves the file (acknowledged, dropped by the bound) or
// when the window is full, and the floor says from which id on the window holds every frame.
import type { StoredFrame } from "./spool-db.js";

/** A live frame is acknowledged within a round trip: a few frames cover it, an outage does not. */
export const RECENT_MAX_FRAMES = 64;
export const RECENT_MAX_BYTES = 1024 * 1024;

export class RecentFrames {
  private readonly frames = new Map<number, StoredFrame>();
  private bytes = 0;
  /** Every frame in the file whose id is at or above this one is in `frames`. */
  private floor: number;

  constructor(nextId: number) {
    this.floor = nextId;
  }

  /** Whether every stored frame with an id from `from` on is here. */
  covers(from: number): boolean {
    return from >= this.floor;
  }

  /** A frame just appended (ids grow, so the map stays in id order). */
  add(frame: StoredFrame): void {
    this.frames.set(frame.id, frame);
    this.bytes += frame.payload.byteLength;
    while (this.frames.size > RECENT_MAX_FRAMES || this.bytes > RECENT_MAX_BYTES) {
      const oldest = this.frames.values().next().value;
      if (oldest === undefined) break;
      this.forget(oldest.id);
      this.floor = oldest.id + 1;
    }
  }

  /** Frames that left the file. */
  remove(ids: Iterable<number>): void {
    if (this.frames.size === 0) return;
    for (const id of ids) this.forget(id);
  }

  /** The frames with from <= id < below, oldest first (from must be covered). */
  between(from: number, below: number): StoredFrame[] {
    const out: StoredFrame[] = [];
    for (const frame of this.frames.values()) {
      if (frame.id >= below) break;
      if (frame.id >= from) out.push(frame);
    }
    return out;
  }

  /** The file was replaced: nothing below `nextId` exists any more. */
  reset(nextId: number): void {
    this.frames.clear();
    this.bytes = 0;
    this.floor = nextId;
  }

  private forget(id: number): void {
    const frame = this.frames.get(id);
    if (!frame) return;
    this.frames.delete(id);
    this.bytes -= frame.payload.byteLength;
  }
}
