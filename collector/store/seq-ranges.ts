// The frame sequence numbers seen for one (host, boot): sorted, disjoint, inclusive ranges.
// Live frames extend the last range; a replay interleaved with live frames opens a second
// range that merges back once the gap fills, so the set stays a handful of numbers.

export class SeqRanges {
  /** Flat [lo0, hi0, lo1, hi1, ...], sorted. */
  private r: number[];
  /** When a frame of this boot last arrived (store clock), so old boots can leave memory. */
  touchedMs = 0;

  constructor(flat: number[] = []) {
    this.r = flat;
  }

  static parse(text: string): SeqRanges {
    const flat: number[] = [];
    for (const part of text.split(",")) {
      if (part === "") continue;
      const [lo, hi] = part.split("-").map(Number);
      if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi))
        flat.push(lo, hi);
    }
    return new SeqRanges(flat);
  }

  toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.r.length; i += 2) parts.push(`${this.r[i]}-${this.r[i + 1]}`);
    return parts.join(",");
  }

  get rangeCount(): number {
    return this.r.length / 2;
  }

  /** Index of the first range whose hi >= seq (in pairs), or rangeCount. */
  private find(seq: number): number {
    const r = this.r;
    const n = r.length / 2;
    if (n > 0 && (r[r.length - 1] as number) < seq) return n;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((r[mid * 2 + 1] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(seq: number): boolean {
    const i = this.find(seq);
    return i < this.r.length / 2 && (this.r[i * 2] as number) <= seq;
  }

  /** Adds seq; false when it was already present. */
  add(seq: number): boolean {
    const r = this.r;
    const n = r.length / 2;
    if (n > 0 && (r[r.length - 1] as number) + 1 === seq) {
      r[r.length - 1] = seq;
      return true;
    }
    const i = this.find(seq);
    if (i < n && (r[i * 2] as number) <= seq) return false;
    const joinsPrev = i > 0 && (r[i * 2 - 1] as number) + 1 === seq;
    const joinsNext = i < n && (r[i * 2] as number) - 1 === seq;
    if (joinsPrev && joinsNext) r.splice(i * 2 - 1, 2);
    else if (joinsPrev) r[i * 2 - 1] = seq;
    else if (joinsNext) r[i * 2] = seq;
    else r.splice(i * 2, 0, seq, seq);
    return true;
  }
}
