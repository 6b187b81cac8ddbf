// The share group under round robin of the fan-out tests (fanout-round-robin.test.ts,
// fanout-ack.test.ts): host-x's one GPU GX, its frames every STEP from `t0Ms`; the first member
// gets the even frames, the second the odd ones, and both receive GX's Xid 79 at `xidMs` (a plain
// subscription), so each raises its own copy of GX's xid and reset-required. GX's recovery action
// is "GPU reset" from the Xid until `recoveredMs` (never, when not given). A third collector holds
// every frame. acme leases GX from `t0Ms` on every collector. Each on its own SQLite file in `dir`
// and its HTTP API on a free loopback port; the first has the second as its peer.
import { join } from "node:path";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { GpuState } from "../../shared/proto.js";
import {
  type CollectorParts,
  feedFrames,
  feedInventories,
  feedXid,
  openParts,
  type ServedCollector,
  serveParts,
} from "./fanout-helpers.js";

export const GX = "GPU-11111111-2222-3333-4444-555555555555";
export const STEP = 30_000;

export interface RoundRobinGx {
  dir: string;
  token: string;
  nowMs: number;
  t0Ms: number;
  xidMs: number;
  recoveredMs?: number;
  /** The second member holds an earlier flag of another host, so its flag ids run one ahead of the first's. */
  secondIdsAhead?: boolean;
  /** Another host and its one GPU in place of host-x and GX: the same episodes, numbered alike, on another GPU. */
  gpu?: { host: string; uuid: string };
}

/** host-x's frame number `k`. */
function frame(s: RoundRobinGx, k: number): ValidFrame {
  const t = s.t0Ms + k * STEP;
  return {
    host: s.gpu?.host ?? "host-x",
    boot_id: `boot-${s.gpu?.host ?? "host-x"}`,
    seq: k + 1,
    timestamp_ms: t,
    interval_ms: STEP,
    site: "lab",
    labels: {},
    gpus: [
      {
        index: 0,
        uuid: s.gpu?.uuid ?? GX,
        state: GpuState.GPU_STATE_OK,
        utilization_gpu_pct: 50,
        temperature_gpu_celsius: 50,
        power_draw_watts: 200,
        gpu_recovery_action: t >= s.xidMs && t < (s.recoveredMs ?? Number.POSITIVE_INFINITY) ? 1 : 0,
      },
    ],
  } as ValidFrame;
}

/**
 * A collector given the frames `receives` picks up to `nowMs`, the inventory, the Xid and acme's
 * lease of GX (of `s.gpu` where given).
 */
export function gxCollector(
  s: RoundRobinGx,
  name: string,
  receives: (k: number) => boolean,
  shared: boolean,
): CollectorParts {
  const parts = openParts(join(s.dir, `${name}.db`), s.nowMs, { sharedFrames: shared });
  // Another flag first on the second member: its flag ids are not the first's.
  if (name === "second" && s.secondIdsAhead) {
    const store = new FlagStore(parts.store.db);
    const earlier = store.insert(
      {
        kind: "stale",
        severity: "warning",
        host: "host-q",
        gpuUuid: null,
        gpuIndex: null,
        site: "lab",
        labels: {},
        startMs: s.t0Ms - STEP,
        reason: "an earlier flag",
        values: {},
      },
      s.t0Ms - STEP,
    );
    store.close({ ...earlier, endMs: s.t0Ms });
  }
  const { host, uuid } = s.gpu ?? { host: "host-x", uuid: GX };
  feedInventories(parts, [[host, uuid]], s.t0Ms);
  for (let k = 0; k < (s.nowMs - s.t0Ms) / STEP; k++) {
    const ms = s.t0Ms + k * STEP;
    if (ms === s.xidMs) feedXid(parts, { host, uuid, seq: 1, timeMs: s.xidMs }, s.xidMs);
    if (receives(k)) feedFrames(parts, [frame(s, k)], 1);
    parts.flags.tick(ms);
  }
  new LeaseService(parts.store.leases, () => s.nowMs).create(
    { id: "acme-x", device: uuid, tenant: "acme", start: s.t0Ms },
    "test",
  );
  return parts;
}

/** The two members (the first with the second as its peer) and the whole collector, served; `started` gets each. */
export async function serveRoundRobinGx(
  s: RoundRobinGx,
  started: ServedCollector[],
): Promise<{ first: ServedCollector; second: ServedCollector; whole: ServedCollector }> {
  const serve = async (parts: CollectorParts, peers: string[]) => {
    const c = await serveParts(parts, { nowMs: s.nowMs, token: s.token, peers, leases: true });
    started.push(c);
    return c;
  };
  const second = await serve(
    gxCollector(s, "second", (k) => k % 2 === 1, true),
    [],
  );
  const first = await serve(
    gxCollector(s, "first", (k) => k % 2 === 0, true),
    [second.url],
  );
  const whole = await serve(
    gxCollector(s, "whole", () => true, false),
    [],
  );
  return { first, second, whole };
}
