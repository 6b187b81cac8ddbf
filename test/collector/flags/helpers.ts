// Scripted series for the flag rules: frames at a fixed interval, a real SQLite file per test.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  DEFAULT_FLAGS_CONFIG,
  type FlagsConfig,
  resolveFlagsConfig,
} from "../../../collector/flags/config.js";
import { FlagEngine } from "../../../collector/flags/engine.js";
import type { FlagEvent } from "../../../collector/flags/types.js";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import { FlagStore } from "../../../collector/store/flag-store.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";

export const T0 = Date.UTC(2026, 0, 1);
export const INTERVAL = 10_000;
export const UUID = "GPU-00000000-0000-0000-0000-000000000001";

export function sample(fields: Partial<IGpuSample> = {}): IGpuSample {
  return { index: 0, uuid: UUID, state: GpuState.GPU_STATE_OK, ...fields };
}

let seq = 0;
export function frame(t: number, gpus: IGpuSample[], extra: Partial<ValidFrame> = {}): ValidFrame {
  seq += 1;
  return {
    host: "node-1",
    boot_id: "b1",
    seq,
    timestamp_ms: t,
    interval_ms: INTERVAL,
    site: "par1",
    labels: { customer: "acme" },
    gpus,
    ...extra,
  };
}

/** Applies this repository's migrations numbered 010-019 (the flags ones) to a database. */
export function migrate(db: Database.Database): void {
  const dir = join(import.meta.dirname, "../../../collector/migrations");
  for (const file of readdirSync(dir)
    .filter((f) => /^01\d_.*\.sql$/.test(f))
    .sort()) {
    db.exec(readFileSync(join(dir, file), "utf8"));
  }
}

export interface Harness {
  dir: string;
  db: Database.Database;
  store: FlagStore;
  engine: FlagEngine;
  events: FlagEvent[];
  clock: { now: number };
  close(): void;
  reopen(): Harness;
}

export function harness(
  config: FlagsConfig = DEFAULT_FLAGS_CONFIG,
  dir = mkdtempSync(join(tmpdir(), "gputel-flags-")),
  options: { sharedFrames?: boolean } = {},
): Harness {
  const db = new Database(join(dir, "collector.db"));
  db.pragma("journal_mode = WAL");
  migrate(db);
  const store = new FlagStore(db);
  const clock = { now: T0 };
  const engine = new FlagEngine({
    store,
    config: resolveFlagsConfig(config),
    now: () => clock.now,
    ...options,
  });
  const events: FlagEvent[] = [];
  engine.subscribe((e) => events.push(e));
  engine.start();
  const h: Harness = {
    dir,
    db,
    store,
    engine,
    events,
    clock,
    close() {
      engine.stop();
      db.close();
    },
    reopen() {
      h.close();
      return harness(config, dir, options);
    },
  };
  return h;
}

export function cleanup(h: Harness): void {
  try {
    h.close();
  } catch {
    // already closed
  }
  rmSync(h.dir, { recursive: true, force: true });
}

/** Feeds one frame per interval from `from` (inclusive) to `to` (exclusive), arrival = frame time. */
export function run(h: Harness, from: number, to: number, gpus: (t: number) => IGpuSample[]): void {
  for (let t = from; t < to; t += INTERVAL) {
    h.clock.now = t;
    h.engine.onFrames([frame(t, gpus(t))], t);
  }
}

export const MIN = 60_000;
