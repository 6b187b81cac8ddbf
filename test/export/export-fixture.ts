// A real store for the export tests, filled through its write path (writeInventory,
// writeFrames): the synthetic fleet (noisy, jittered timestamps, occasional absent readings),
// 2 hosts x 2 GPUs at 1 s for 150 minutes, so the raw tier spans three one-hour slices, sealed
// blocks and unsealed samples. Host 1's minutes 30-40 are held back and written last, as a
// replayed backlog: their samples land in blocks that overlap older ones. Host 0 carries a label
// whose value needs quoting in CSV and escaping in OpenMetrics.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExportGpu } from "../../collector/export/export-stream.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { Store } from "../../collector/store/store.js";
import { METRICS } from "../../shared/metrics.js";
import { SynthFleet } from "../collector/store/synth.js";

export const T0 = Date.UTC(2026, 0, 1);
export const MINUTES = 150;
export const TRICKY_LABEL = 'a,"b"\\c';

export interface ExportFixture {
  dir: string;
  store: Store;
  startMs: number;
  endMs: number;
  gpus: ExportGpu[];
  close(): void;
}

export function exportFixture(
  options: { hosts?: number; gpusPerHost?: number; minutes?: number } = {},
): ExportFixture {
  const dir = mkdtempSync(join(tmpdir(), "gputel-export-"));
  const store = Store.open(join(dir, "collector.db"));
  const hosts = options.hosts ?? 2;
  const minutes = options.minutes ?? MINUTES;
  const fleet = new SynthFleet({ hosts, gpusPerHost: options.gpusPerHost ?? 2, seed: 11, startMs: T0 });
  const first = fleet.frame(0, 0);
  for (let h = 0; h < hosts; h++) {
    const f = fleet.frame(h, 0);
    store.writeInventory(
      {
        host: f.host,
        timestamp_ms: T0,
        gpus: f.gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: `NVIDIA H100 80GB HBM3 #${h}` })),
      },
      T0,
    );
  }
  const held: ValidFrame[] = [];
  let batch: ValidFrame[] = [];
  const flush = (list: ValidFrame[]) => {
    const last = list[list.length - 1];
    if (last) store.writeFrames(list, last.timestamp_ms + 20);
  };
  for (const frame of fleet.frames(0, minutes * 60) as Iterable<ValidFrame>) {
    const f =
      frame.host === first.host ? { ...frame, labels: { ...frame.labels, team: TRICKY_LABEL } } : frame;
    const minute = (f.timestamp_ms - T0) / 60_000;
    if (f.host !== first.host && minute >= 30 && minute < 40) held.push(f);
    else batch.push(f);
    if (batch.length >= 200) {
      flush(batch);
      batch = [];
    }
  }
  flush(batch);
  flush(held);
  const gpus = store.latest().map((g) => ({
    uuid: g.uuid,
    host: g.host,
    index: g.index,
    model: g.model,
    site: g.site,
    labels: g.labels,
  }));
  return {
    dir,
    store,
    startMs: T0,
    endMs: T0 + minutes * 60_000,
    gpus,
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A value as exported: 15 significant digits (612.34, not 612.3400000000001). */
export function exposed(v: number): number {
  return Number(v.toPrecision(15));
}

/** What the export must hold: per series name and UUID, [timestamp ms, exposed value] in time order, from store.samples(). */
export function expectedRaw(store: Store, gpus: readonly ExportGpu[], fromMs: number, toMs: number) {
  const out = new Map<string, [number, number][]>();
  for (const g of gpus) {
    for (const s of store.samples(g.uuid, fromMs, toMs)) {
      for (const m of METRICS) {
        const v = s.values[m.key];
        if (v === undefined) continue;
        const key = `${m.prom.name} ${g.uuid}`;
        const list = out.get(key) ?? [];
        list.push([s.ts, exposed(Math.round(v * m.scale) * m.prom.factor)]);
        out.set(key, list);
      }
    }
  }
  return out;
}
