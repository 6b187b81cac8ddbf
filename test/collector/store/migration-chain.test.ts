// A database a collector at schema 070 wrote (before usage edges, process sessions, MIG devices)
// opens with this build: the later migrations run, the usage edges are built from the rollups,
// and every sample, rollup and report answer is what it was. A process session stored before
// migration 098 keeps its SM share and gains a memory share from its next set.
import { afterEach, describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { Store } from "../../../collector/store/store.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { frame, gpu, T0, type TempStore, tempStore } from "./synth.js";

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

const HOUR = 3_600_000;

describe("migration chain from schema 070", () => {
  it("keeps every row and answer of a database written before usage edges", () => {
    tmp = tempStore();
    const store = tmp.open({ rawWindowMs: 600_000 });
    const frames = Array.from({ length: 400 }, (_, k) =>
      frame(
        k + 1,
        T0 + k * 10_000,
        [
          gpu(0, { utilization_gpu_pct: k % 101, power_draw_watts: 100 + (k % 13) }),
          gpu(1, { temperature_gpu_celsius: 40 + (k % 5) }),
        ],
        { interval_ms: 10_000 },
      ),
    );
    for (let i = 0; i < frames.length; i += 25)
      store.writeFrames(frames.slice(i, i + 25), T0 + (i + 25) * 10_000);
    const range = { fromMs: T0 + 7 * 60_000, toMs: T0 + HOUR + 3 * 60_000 };
    const answers = () => ({
      samples: store.samples("GPU-test-0", 0, T0 + 10 * HOUR),
      series: store.series(
        "GPU-test-0",
        ["utilization_gpu_pct", "power_draw_watts"],
        T0,
        T0 + 2 * HOUR,
        60_000,
      ),
      totals: store.gpuTotals(range),
      scan: store.gpuTotals(range, undefined, { maxTemperature: true }),
    });
    const before = answers();
    expect(before.samples).toHaveLength(400);
    // Back to schema 070: the later tables, indexes and records gone.
    store.db.exec(`
      DROP TABLE usage_edges; DROP TABLE process_sessions; DROP TABLE process_sets; DROP TABLE mig_devices;
      DROP TABLE xid_counts; DROP TABLE parked_xids; ALTER TABLE flag_acks DROP COLUMN actor;
      DROP INDEX flags_gpu_start; DROP INDEX flags_host_start; CREATE INDEX flags_host ON flags (host);
      DELETE FROM store_meta WHERE key = 'usage_edges_steps';
      DELETE FROM schema_migrations WHERE version > 70;
    `);
    store.close();
    const again = tmp.open({ rawWindowMs: 600_000 });
    expect(again.db.prepare("SELECT max(version) FROM schema_migrations").pluck().get()).toBeGreaterThan(70);
    expect(again.samples("GPU-test-0", 0, T0 + 10 * HOUR)).toEqual(before.samples);
    expect(
      again.series("GPU-test-0", ["utilization_gpu_pct", "power_draw_watts"], T0, T0 + 2 * HOUR, 60_000),
    ).toEqual(before.series);
    expect(again.gpuTotals(range)).toEqual(before.totals);
    expect(again.gpuTotals(range, undefined, { maxTemperature: true })).toEqual(before.scan);
  });
});

describe("migration 098 (a process's memory share)", () => {
  const now = Date.now();

  /** One process set of host-a listing pid 4121 (one life), through the collector's check, into the store. */
  function writeSet(store: Store, seq: number, atMs: number, over: Partial<IProcessRecord>): void {
    const payload = ProcessSet.encode({
      schema_version: SCHEMA_VERSION,
      host: "host-a",
      boot_id: "b1",
      seq,
      timestamp_ms: atMs,
      processes: [{ gpu_uuid: "GPU-test-0", pid: 4121, start_ms: now - HOUR, name: "python3", ...over }],
    }).finish();
    const checked = checkMessage(topicFor("host-a", "processes"), payload, {
      username: undefined,
      nowMs: atMs,
    });
    if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
    store.writeProcesses(checked.processes, atMs);
  }

  it("keeps a session stored at schema 097 with its SM share, and gives it a memory share from the next set", () => {
    tmp = tempStore();
    const store = tmp.open();
    writeSet(store, 1, now - 120_000, { sm_pct: 10 });
    // Back to schema 097: the session as a collector before memory shares stored it.
    store.db.exec(`
      ALTER TABLE process_sessions DROP COLUMN mem_pct_sum;
      ALTER TABLE process_sessions DROP COLUMN mem_pct_count;
      DROP TABLE parked_xids;
      ALTER TABLE flag_acks DROP COLUMN actor;
      DELETE FROM schema_migrations WHERE version > 97;
    `);
    store.close();
    const again = tmp.open();
    expect(again.processes().query({ limit: 10 })).toEqual([
      expect.objectContaining({ pid: 4121, smPct: 10, memPct: null }),
    ]);
    writeSet(again, 2, now - 60_000, { sm_pct: 30, mem_pct: 8 });
    expect(again.processes().query({ limit: 10 })).toEqual([
      expect.objectContaining({ pid: 4121, smPct: 20, memPct: 8 }),
    ]);
  });
});
