// Store.openReader: the read worker's read-only second connection (docs/design.md §5). Each read()
// sees one snapshot with the memory (unsealed samples, rollup deltas) rebuilt from it, so it
// answers exactly what the writer's own store answers, before and after seals, and never writes.
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../../collector/store/store.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore;
let reader: Store | undefined;
afterEach(() => {
  reader?.close();
  reader = undefined;
  tmp?.cleanup();
});

const RANGE = { fromMs: T0 - 3_600_000, toMs: T0 + 3 * 3_600_000, groupBy: "gpu" as const };

function write(store: Store, fromSeq: number, count: number): void {
  const frames = Array.from({ length: count }, (_, k) => {
    const seq = fromSeq + k;
    return frame(seq, T0 + seq * 10_000, [
      gpu(0, { utilization_gpu_pct: 90, memory_used_mib: 1000, compute_processes: 1, power_draw_watts: 300 }),
      gpu(1, { utilization_gpu_pct: 0, memory_used_mib: 1, compute_processes: 0, power_draw_watts: 60 }),
    ]);
  });
  store.writeFrames(frames, T0 + (fromSeq + count) * 10_000);
}

describe("Store.openReader", () => {
  it("answers what the writer answers: unsealed samples, then sealed ones, then newer commits", () => {
    tmp = tempStore();
    const writer = tmp.open({ rawWindowMs: 600_000 });
    write(writer, 1, 30);
    reader = Store.openReader(tmp.path);
    const r = reader;
    const first = r.read(() => r.aggregate(RANGE));
    expect(first).toEqual(writer.aggregate(RANGE));
    expect(first.reduce((n, g) => n + g.busyMs + g.idleMs, 0)).toBe(60 * 1000);

    writer.sealAll();
    write(writer, 31, 40);
    const second = r.read(() => r.aggregate(RANGE));
    expect(second).toEqual(writer.aggregate(RANGE));
    expect(second.reduce((n, g) => n + g.busyMs + g.idleMs, 0)).toBe(140 * 1000);
    expect(r.read(() => r.series("GPU-test-0", ["utilization_gpu_pct"], T0, T0 + 3_600_000, 60_000))).toEqual(
      writer.series("GPU-test-0", ["utilization_gpu_pct"], T0, T0 + 3_600_000, 60_000),
    );
  });

  it("refuses writes, and read() on a writer's store", () => {
    tmp = tempStore();
    const writer = tmp.open();
    write(writer, 1, 2);
    reader = Store.openReader(tmp.path);
    expect(() => reader?.writeFrames([frame(9, T0 + 90_000, [gpu(0)])], T0 + 90_000)).toThrow(/readonly/i);
    expect(() => writer.read(() => 1)).toThrow(/openReader/);
  });

  it("maps the file (as far as this SQLite allows); the writer does not", () => {
    tmp = tempStore();
    const writer = tmp.open();
    reader = Store.openReader(tmp.path);
    expect(reader.db.pragma("mmap_size", { simple: true })).toBeGreaterThanOrEqual(2 ** 30);
    expect(writer.db.pragma("mmap_size", { simple: true })).toBe(0);
  });
});

describe("Store.openReader snapshots", () => {
  it("keeps a snapshot younger than maxAgeMs (and its memory), then takes a fresh one", () => {
    tmp = tempStore();
    const writer = tmp.open({ rawWindowMs: 600_000 });
    write(writer, 1, 10);
    const clock = { now: 0 };
    reader = Store.openReader(tmp.path, { clock: () => clock.now });
    const r = reader;
    const covered = () =>
      r.read(() => r.aggregate(RANGE).reduce((n, g) => n + g.busyMs + g.idleMs, 0), 10_000);
    expect(covered()).toBe(20 * 1000);
    write(writer, 11, 5);
    clock.now = 9_000;
    expect(covered()).toBe(20 * 1000); // the kept snapshot
    clock.now = 10_001;
    expect(covered()).toBe(30 * 1000);
    write(writer, 16, 5);
    r.release();
    expect(covered()).toBe(40 * 1000);
    r.release();
  });
});
