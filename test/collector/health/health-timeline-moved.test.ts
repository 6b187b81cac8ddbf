// The health timeline of a GPU that moved between hosts: its episodes on the hosts it was on
// before (raised there, under that host's name) are in its timeline and its hardware downtime,
// for the stretch it was on each host, as the downtime report reads them (host-changes.ts).
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { StoreHealthBackend } from "../../../collector/api/health-backend.js";
import { buildApp } from "../../../collector/api/server.js";
import { StoreBackend } from "../../../collector/api/store-backend.js";
import { silentLogger } from "../../../shared/logger.js";
import { GpuState } from "../../../shared/proto.js";
import { xidEvent } from "./events.js";
import { type FlagHarness, flagHarness, HOST, INTERVAL, inventory, MIN, T0, UUID } from "./flag-harness.js";

const NEW_HOST = "node-2";
const ACK = T0 + 30 * MIN;
const MOVE = T0 + 60 * MIN;
const NOW = T0 + 120 * MIN;

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

/** The GPU on HOST falls off the bus (reset-required until acknowledged), then moves to NEW_HOST. */
function setup(): FastifyInstance {
  h = flagHarness();
  const harness = h;
  const gpu = { index: 0, uuid: UUID, name: "NVIDIA H100 80GB HBM3" };
  harness.store.writeInventory(inventory(HOST, T0, [gpu]), T0);
  harness.store.writeInventory(inventory(NEW_HOST, T0, []), T0);
  harness.frame(T0, { gpu_recovery_action: 0 });
  harness.xid([xidEvent(2, 79, { time_ms: T0 + 2000, pid: null, process_name: "" })]);
  const reset = harness.open("reset-required");
  if (!reset) throw new Error("Xid 79 opened no reset-required flag");
  harness.clock.now = ACK;
  harness.engine.acknowledge(reset.id, "reseated", ACK);
  harness.store.writeInventory(inventory(HOST, MOVE, []), MOVE);
  harness.store.writeInventory(inventory(NEW_HOST, MOVE, [gpu]), MOVE);
  for (let t = MOVE; t < NOW; t += 10 * INTERVAL)
    harness.frame(t, { state: GpuState.GPU_STATE_OK }, { host: NEW_HOST, boot_id: "agent-9" });
  const now = () => NOW;
  const backend = new StoreBackend({
    store: harness.store,
    flags: harness.engine,
    health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
    now,
  });
  app = buildApp(backend, undefined, silentLogger());
  return app;
}

describe("the health timeline of a GPU that moved", () => {
  it("holds its episodes on the host it was on before, and their hardware downtime", async () => {
    const a = setup();
    const r = await a.inject({ method: "GET", url: `/api/v1/gpus/${UUID}/health?from=${T0}&to=${NOW}` });
    expect(r.statusCode).toBe(200);
    const t = r.json() as { host: string; flags: { kind: string; host: string }[]; downtimeMs: number };
    expect(t.host).toBe(NEW_HOST);
    expect(t.flags.filter((f) => f.kind === "reset-required").map((f) => f.host)).toEqual([HOST]);
    expect(t.downtimeMs).toBe(ACK - (T0 + 2000));
  });
});
