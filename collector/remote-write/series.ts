// Pure: committed raw samples (as the store wrote them, arrival order) → remote-write batches.
// One series per GPU and metric, named and labelled as the collector's /metrics exposition
// (shared/metrics.ts prom names; host, gpu, uuid, model, site, label_<key>). A sample whose
// timestamp is not newer than what this exporter already sent for its GPU is a replayed
// backlog: those go in their own batches, oldest first, before the live ones.
import { exposedValue, METRICS, type MetricDef } from "../../shared/metrics.js";
import { exportedAgentLabels } from "../../shared/prom-labels.js";
import type { StoredSample } from "../store/sample.js";
import { encodeLabels, type Label, sortLabels, type TimeSeries } from "./wire.js";

export interface GpuIdentity {
  host: string;
  /** GPU index on its host. */
  index: number;
  uuid: string;
  model: string;
  site: string;
  labels: Readonly<Record<string, string>>;
}

export interface Entry {
  gpuId: number;
  sample: StoredSample;
}

export interface Batch {
  series: TimeSeries[];
  samples: number;
  /** Replayed backlog (timestamps at or before what was already sent for the GPU). */
  backlog: boolean;
}

const NAMES = METRICS.map((m) => m.prom.name);

/** The labels shared by every metric of a GPU (empty values left out: Prometheus reads them as absent). */
export function gpuLabels(id: GpuIdentity): Label[] {
  const labels: Label[] = [
    { name: "host", value: id.host },
    { name: "gpu", value: String(id.index) },
    { name: "uuid", value: id.uuid },
    { name: "model", value: id.model },
    { name: "site", value: id.site },
  ];
  for (const [name, value] of exportedAgentLabels(id.labels)) labels.push({ name, value });
  return labels.filter((l) => l.value !== "");
}

/**
 * The sorted labels of each GPU's series, encoded once: they repeat in every request. An entry
 * is rebuilt when the GPU's identity changes (moved host, new labels).
 */
export class SeriesLabels {
  private readonly byGpu = new Map<
    number,
    { sig: string; series: { labels: Label[]; bytes: Uint8Array }[] }
  >();

  /** The labels of every metric of the GPU (by METRICS index), or undefined for an unknown GPU. */
  forGpu(gpuId: number, id: GpuIdentity | undefined): { labels: Label[]; bytes: Uint8Array }[] | undefined {
    if (!id) return undefined;
    const sig = `${id.host}\u0000${id.index}\u0000${id.uuid}\u0000${id.model}\u0000${id.site}\u0000${JSON.stringify(id.labels)}`;
    const cached = this.byGpu.get(gpuId);
    if (cached && cached.sig === sig) return cached.series;
    const base = gpuLabels(id);
    const series = NAMES.map((name) => {
      const labels = sortLabels([{ name: "__name__", value: name }, ...base]);
      return { labels, bytes: encodeLabels(labels) };
    });
    if (this.byGpu.size > 1_000_000) this.byGpu.clear();
    this.byGpu.set(gpuId, { sig, series });
    return series;
  }
}

/**
 * Splits entries into backlog and live (updating `lastSent`, the newest timestamp sent per GPU),
 * sorts each by time and cuts batches of at most `batchSamples` values. Entries whose GPU the
 * identity function does not know are skipped and counted in `unknown`.
 */
export function planBatches(
  entries: readonly Entry[],
  identity: (gpuId: number) => GpuIdentity | undefined,
  lastSent: Map<number, number>,
  batchSamples: number,
  cache: SeriesLabels = new SeriesLabels(),
): { batches: Batch[]; unknown: number } {
  const live: Entry[] = [];
  const backlog: Entry[] = [];
  for (const e of entries) {
    const last = lastSent.get(e.gpuId);
    if (last !== undefined && e.sample.ts <= last) backlog.push(e);
    else {
      live.push(e);
      lastSent.set(e.gpuId, e.sample.ts);
    }
  }
  const byTime = (a: Entry, b: Entry) => a.sample.ts - b.sample.ts;
  backlog.sort(byTime);
  live.sort(byTime);
  const labels = new Map<number, { labels: Label[]; bytes: Uint8Array }[] | null>();
  const labelsOf = (gpuId: number) => {
    let l = labels.get(gpuId);
    if (l === undefined) {
      l = cache.forGpu(gpuId, identity(gpuId)) ?? null;
      labels.set(gpuId, l);
    }
    return l;
  };
  let unknown = 0;
  const batches: Batch[] = [];
  for (const [list, isBacklog] of [
    [backlog, true],
    [live, false],
  ] as const) {
    let current: { map: Map<number, TimeSeries>; samples: number } | undefined;
    const close = () => {
      if (current && current.samples > 0) {
        batches.push({ series: [...current.map.values()], samples: current.samples, backlog: isBacklog });
      }
      current = undefined;
    };
    for (const e of list) {
      const base = labelsOf(e.gpuId);
      if (!base) {
        unknown++;
        continue;
      }
      const vals = e.sample.vals;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i] as number;
        if (Number.isNaN(v)) continue; // absent stays absent: no sample, never 0
        if (!current) current = { map: new Map(), samples: 0 };
        const key = e.gpuId * 64 + i;
        let s = current.map.get(key);
        if (!s) {
          const l = base[i] as { labels: Label[]; bytes: Uint8Array };
          s = { labels: l.labels, labelBytes: l.bytes, timestamps: [], values: [] };
          current.map.set(key, s);
        }
        s.timestamps.push(e.sample.ts);
        s.values.push(exposedValue(METRICS[i] as MetricDef, v));
        current.samples++;
        if (current.samples >= batchSamples) close();
      }
    }
    close();
  }
  return { batches, unknown };
}
