// Pure: one GPU's series (gpus/:id/series) as several collectors answer the same request (the
// same metrics, range and step, so the same bucket grid) → the one series, for the fan-out
// (http.peers) and `gputel query --url a,b` alike. A GPU's samples are on the collector its host's
// frames reach: a host whose frames moved to another collector (the broker's group changed, the
// agent was pointed elsewhere), or a GPU moved to a host of another collector, leaves each
// collector a part of the range, and round robin (Mosquitto) leaves each a part of every bucket.
//
// Where several collectors have a value in one bucket: min is the least of their minimums, max the
// greatest of their maximums, and avg the average of all their samples, each answer's average
// weighted by the samples it counts there (exact: what one collector holding them all computes,
// to the last bits of the division). A collector from before 2026-12-08 sends no counts: a bucket
// one of its answers shares is the mean of the averages (exact when they hold as many samples,
// otherwise between their averages, never outside [min, max]), and the merged metric has no
// counts. Under hash_clientid only the bucket of a move is shared.
import type { SeriesMetric, SeriesView } from "../contract/api-contract.js";

/**
 * The series of `answers` (one GPU's, first the asking collector's) as one: buckets by time over
 * every answer's grid, each metric's values where any answer has one (above for a bucket several
 * have). The GPU is placed (host, index) as the answer with the newest value places it, else as the
 * first; `tier` names every tier an answer with values read, `slowdownTemperatureC` is the first
 * known. A bucket with no value anywhere stays null. One answer is returned as it is.
 */
export function mergeSeries(answers: readonly SeriesView[]): SeriesView {
  const first = answers[0];
  if (!first) throw new Error("no series to merge");
  if (answers.length === 1) return first;
  const t = [...new Set(answers.flatMap((a) => a.t))].sort((a, b) => a - b);
  const slot = new Map(t.map((ms, k) => [ms, k]));
  const keys = [
    ...new Set(answers.flatMap((a) => Object.keys(a.metrics))),
  ] as (keyof SeriesView["metrics"])[];
  const metrics: SeriesView["metrics"] = {};
  for (const key of keys) {
    const present = answers.flatMap((a) => a.metrics[key] ?? []);
    metrics[key] = mergeMetric(
      answers,
      key,
      slot,
      t.length,
      present.every((m) => m.count !== undefined),
    );
  }
  const withValues = answers.filter((a) => newestValueMs(a) !== undefined);
  const placed = withValues.reduce<SeriesView>(
    (best, a) => ((newestValueMs(a) as number) > (newestValueMs(best) ?? -Infinity) ? a : best),
    withValues[0] ?? first,
  );
  return {
    uuid: first.uuid,
    host: placed.host,
    index: placed.index,
    tier: [...new Set((withValues.length > 0 ? withValues : [first]).map((a) => a.tier))].join(","),
    stepMs: first.stepMs,
    fromMs: Math.min(...answers.map((a) => a.fromMs)),
    toMs: Math.max(...answers.map((a) => a.toMs)),
    t,
    metrics,
    slowdownTemperatureC: answers.find((a) => a.slowdownTemperatureC !== null)?.slowdownTemperatureC ?? null,
  };
}

/** The time of the answer's newest bucket holding a value of any metric; undefined when none does. */
function newestValueMs(a: SeriesView): number | undefined {
  for (let i = a.t.length - 1; i >= 0; i--)
    if (Object.values(a.metrics).some((m) => m && (m.avg[i] ?? null) !== null)) return a.t[i];
  return undefined;
}

function least(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function greatest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** One metric over the merged grid; with `counted`, every answer holding it counts its samples. */
function mergeMetric(
  answers: readonly SeriesView[],
  key: keyof SeriesView["metrics"],
  slot: ReadonlyMap<number, number>,
  buckets: number,
  counted: boolean,
): SeriesMetric {
  const none = () => new Array<number | null>(buckets).fill(null);
  const out = { min: none(), max: none(), avg: none() };
  const sum = new Array<number>(buckets).fill(0);
  // The weight of each average: its samples, or one per answer without counts.
  const weight = new Array<number>(buckets).fill(0);
  for (const a of answers) {
    const m = a.metrics[key];
    if (!m) continue;
    a.t.forEach((ms, i) => {
      const avg = m.avg[i] ?? null;
      const k = slot.get(ms);
      // A bucket without a sample (or blanked for a tenant) is null in all three.
      if (avg === null || k === undefined) return;
      const w = counted ? (m.count?.[i] ?? 0) : 1;
      out.min[k] = least(out.min[k] ?? null, m.min[i] ?? null);
      out.max[k] = greatest(out.max[k] ?? null, m.max[i] ?? null);
      sum[k] = (sum[k] as number) + avg * w;
      weight[k] = (weight[k] as number) + w;
    });
  }
  out.avg = weight.map((w, k) => (w > 0 ? (sum[k] as number) / w : null));
  return counted ? { ...out, count: weight } : out;
}
