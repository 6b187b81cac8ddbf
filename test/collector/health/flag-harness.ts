// A flag engine over a real store (all migrations, so acknowledgements are kept), a fake clock,
// and helpers to feed it events and frames as ingest would.
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig } from "../../../collector/flags/config.js";
import { FlagEngine } from "../../../collector/flags/engine.js";
import type { Flag, FlagEvent, FlagKind, FlagRecords } from "../../../collector/flags/types.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { ValidFrame } from "../../../collector/ingest/validate.js";
import type { ValidEvent } from "../../../collector/ingest/validate-event.js";
import type { Store } from "../../../collector/store/store.js";
import { GpuState, type IGpuSample, type IHealthEvent, type IInventory } from "../../../shared/proto.js";
import { type TempStore, tempStore } from "../store/synth.js";
import { eventPayload, eventTopic } from "./events.js";

export const HOST = "node-1";
export const UUID = "GPU-test-0";
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const INTERVAL = 10_000;
export const MIN = 60_000;

/** An inventory of `host` at `ts` listing `gpus`, at the frames' site (a GPU moves by two of them). */
export function inventory(host: string, ts: number, gpus: IInventory["gpus"]): IInventory {
  return { host, site: "par1", labels: {}, timestamp_ms: ts, gpus };
}

export interface FlagHarness {
  tmp: TempStore;
  store: Store;
  engine: FlagEngine;
  delivered: FlagEvent[];
  clock: { now: number };
  /** Checks events as ingest does (catalogue action, application level) and hands them to the engine. */
  xid(events: IHealthEvent[]): ValidEvent[];
  frame(t: number, gpu: Partial<IGpuSample>, extra?: Partial<ValidFrame>): void;
  open(kind: FlagKind): Flag | undefined;
  history(kind: FlagKind): Flag[];
  restart(): FlagHarness;
  cleanup(): void;
}

let seq = 0;

/**
 * `sharedFrames`: a member of a share group (broker.share_group), as FlagEngineOptions says;
 * `records`: the flag records the engine writes through (default: the store's FlagStore).
 */
export function flagHarness(
  tmp: TempStore = tempStore(),
  options: { sharedFrames?: boolean; gpuMoveHoldMs?: number; records?: (store: Store) => FlagRecords } = {},
): FlagHarness {
  const store = tmp.open();
  const clock = { now: T0 };
  const { records, ...engineOptions } = options;
  const engine = new FlagEngine({
    store: records?.(store) ?? store.flagStore(),
    config: resolveFlagsConfig(DEFAULT_FLAGS_CONFIG),
    now: () => clock.now,
    parkedXids: store.parkedXids(),
    ...engineOptions,
  });
  const delivered: FlagEvent[] = [];
  engine.subscribe((e) => delivered.push(e));
  engine.start();
  const h: FlagHarness = {
    tmp,
    store,
    engine,
    delivered,
    clock,
    xid(events) {
      const checked = checkMessage(eventTopic(HOST), eventPayload(HOST, events), {
        username: undefined,
        nowMs: clock.now + 3600_000,
      });
      if (checked.rejections.length > 0) throw new Error(JSON.stringify(checked.rejections));
      // As ingest does: stored first, and only what is new goes to the flag engine.
      const { fresh } = store.writeEvents(checked.events, clock.now);
      if (fresh.length > 0) engine.onEvents(fresh, clock.now);
      return fresh;
    },
    frame(t, gpu, extra = {}) {
      seq += 1;
      clock.now = Math.max(clock.now, t);
      const frames: ValidFrame[] = [
        {
          host: HOST,
          boot_id: "agent-1",
          seq,
          timestamp_ms: t,
          interval_ms: INTERVAL,
          site: "par1",
          labels: {},
          gpus: [{ index: 0, uuid: UUID, state: GpuState.GPU_STATE_OK, ...gpu }],
          ...extra,
        },
      ];
      store.writeFrames(frames, t);
      engine.onFrames(frames, t);
    },
    open: (kind) => engine.openFlags({ kinds: [kind] })[0],
    history: (kind) => engine.history({ kinds: [kind] }),
    restart() {
      engine.stop();
      store.close();
      return flagHarness(tmp, options);
    },
    cleanup() {
      engine.stop();
      tmp.cleanup();
    },
  };
  return h;
}
