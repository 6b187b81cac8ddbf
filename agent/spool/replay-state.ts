// Which spooled frames are live, which are backlog, and which are in flight (pure, in memory).
//
// Policy: ids grow with every append, so the id the next append will get at the moment of a
// (re)connect splits the spool: older frames are backlog (replayed oldest first, in batches, rate
// limited), newer ones are live (published one by one as they come). Ids rather than timestamps,
// so a clock that steps cannot move frames between the two streams.
//
// In-flight frames (handed out, no PUBACK yet) live only in memory: after a restart every frame
// still in the file is pending again, and all of it is backlog.

export type Stream = "live" | "backlog";

export class ReplayState {
  private readonly inFlight = new Map<number, number>();
  private liveFrom: number;
  // Invariant of both cursors: every id of that stream below the cursor is in flight or gone.
  private liveCursor: number;
  private backlogCursor = 0;
  private inFlightSum = 0;

  constructor(nextId: number) {
    this.liveFrom = nextId;
    this.liveCursor = nextId;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get inFlightBytes(): number {
    return this.inFlightSum;
  }

  isInFlight(id: number): boolean {
    return this.inFlight.has(id);
  }

  /** Where the next scan of `stream` starts, and (backlog only) the id it must stay below. */
  range(stream: Stream): { from: number; below: number } {
    return stream === "live"
      ? { from: this.liveCursor, below: Number.MAX_SAFE_INTEGER }
      : { from: this.backlogCursor, below: this.liveFrom };
  }

  /** A (re)connect: what is pending now becomes backlog; frames from `nextId` on are live. */
  reconnected(nextId: number): void {
    this.backlogCursor = Math.min(this.backlogCursor, this.liveCursor);
    this.liveFrom = nextId;
    this.liveCursor = nextId;
  }

  /**
   * A backlog scan from range("backlog").from found nothing left to hand out up to `below`: the
   * next polls start there and need not read the file again until a nack or a reconnect.
   */
  backlogExhausted(below: number): void {
    this.backlogCursor = Math.max(this.backlogCursor, below);
  }

  /** Marks frames handed out, oldest first, from a scan of `stream` that began at range(stream).from. */
  handOut(stream: Stream, entries: readonly { id: number; size: number }[]): void {
    const last = entries.at(-1);
    if (!last) return;
    for (const entry of entries) {
      if (this.inFlight.has(entry.id)) continue;
      this.inFlight.set(entry.id, entry.size);
      this.inFlightSum += entry.size;
    }
    if (stream === "live") this.liveCursor = Math.max(this.liveCursor, last.id + 1);
    else this.backlogCursor = Math.max(this.backlogCursor, last.id + 1);
  }

  /** PUBACKed or dropped: no longer in flight. Returns the sizes of those that were. */
  settle(ids: Iterable<number>): Map<number, number> {
    const settled = new Map<number, number>();
    for (const id of ids) {
      const size = this.inFlight.get(id);
      if (size === undefined) continue;
      this.inFlight.delete(id);
      this.inFlightSum -= size;
      settled.set(id, size);
    }
    return settled;
  }

  /** Not acknowledged (connection lost): pending again, handed out again from the oldest. */
  nack(ids: Iterable<number>): number {
    let count = 0;
    for (const id of ids) {
      const size = this.inFlight.get(id);
      if (size === undefined) continue;
      this.inFlight.delete(id);
      this.inFlightSum -= size;
      count += 1;
      if (id >= this.liveFrom) this.liveCursor = Math.min(this.liveCursor, id);
      else this.backlogCursor = Math.min(this.backlogCursor, id);
    }
    return count;
  }

  nackAll(): number {
    return this.nack([...this.inFlight.keys()]);
  }

  /** The file was replaced by an empty one: nothing is in flight (ids go on, so the split stays). */
  reset(): void {
    this.inFlight.clear();
    this.inFlightSum = 0;
    this.backlogCursor = 0;
    this.liveCursor = this.liveFrom;
  }
}
