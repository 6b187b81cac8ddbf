// Pure: a collector's down stretches without the time its copies of an episode that ends on
// evidence (ENDS_ON_EVIDENCE: reset-required) ran past the joined episode's end. Under round robin
// every member of a share group holds its own copy of a GPU's reset-required episode and ends it
// at the first of its own samples that shows the evidence: the member the evidence frame reached
// ends it where one collector holding every frame does, the others up to a sample later. The
// merged flag list takes the earliest end (mergeFlagLists), but each collector's down stretches
// (a lease line's, a health timeline's) hold its own copy's end, and their union the latest. So
// the merges of down time take out of each collector's stretches the time its own copies held
// past the joined episodes, where that stretch is down for such kinds alone: another kind in the
// same stretch (a stale, an error) may hold the GPU down over that time too, which a stretch
// cannot tell apart, and such a stretch is kept whole (up to a sample long, docs/scaling.md).
import type { DownEpisode } from "../reports/down-time.js";
import { ENDS_ON_EVIDENCE, type MergeableFlag } from "./merge-lists.js";

type Span = Pick<MergeableFlag, "kind" | "host" | "startMs" | "endMs">;

/**
 * `down` (one collector's stretches of one GPU) less the time its `copies` (that collector's
 * episodes of the GPU) of kinds ending on evidence lie outside every `joined` episode (all
 * collectors' joined by mergeFlagLists) of their kind and host, in stretches of those kinds only.
 */
export function withoutLateEnds<D extends DownEpisode>(
  down: readonly D[],
  copies: readonly Span[],
  joined: readonly Span[],
): D[] {
  const late = copies.flatMap((c) =>
    ENDS_ON_EVIDENCE.has(c.kind)
      ? outside(
          c,
          joined.filter((j) => j.kind === c.kind && j.host === c.host),
        )
      : [],
  );
  if (late.length === 0) return [...down];
  return down.flatMap((s) => (s.kinds.every((k) => ENDS_ON_EVIDENCE.has(k)) ? cut(s, late) : [s]));
}

const endOf = (s: Span) => s.endMs ?? Number.POSITIVE_INFINITY;

/** The parts of `c` that no span of `by` covers. */
function outside(c: Span, by: readonly Span[]): { fromMs: number; toMs: number }[] {
  let pieces = [{ fromMs: c.startMs, toMs: endOf(c) }];
  for (const j of by) pieces = pieces.flatMap((p) => minus(p, j.startMs, endOf(j)));
  return pieces;
}

/** `s` without the spans `late`, in pieces. */
function cut<D extends DownEpisode>(s: D, late: readonly { fromMs: number; toMs: number }[]): D[] {
  let pieces: { fromMs: number; toMs: number }[] = [{ fromMs: s.fromMs, toMs: s.toMs }];
  for (const l of late) pieces = pieces.flatMap((p) => minus(p, l.fromMs, l.toMs));
  return pieces.map((p) => ({ ...s, fromMs: p.fromMs, toMs: p.toMs }));
}

/** [p.fromMs, p.toMs) less [fromMs, toMs): none, one or two pieces, none empty. */
function minus(p: { fromMs: number; toMs: number }, fromMs: number, toMs: number) {
  if (toMs <= p.fromMs || fromMs >= p.toMs) return [p];
  return [
    { fromMs: p.fromMs, toMs: fromMs },
    { fromMs: toMs, toMs: p.toMs },
  ].filter((x) => x.toMs > x.fromMs);
}
