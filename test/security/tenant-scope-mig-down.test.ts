// A MIG device lease's down time is its GPU's (reports/down-time.ts, lease-lines.ts): the GPU lost
// or erroring takes every MIG device on it down. Its tenant therefore sees the GPU's down flags
// (the GPU kinds of DOWN_KINDS) clipped to its stays, under the GPU's UUID that its statement
// lines name, and adding up to its statement's down time; nothing else of the GPU (a workload's
// Xid, which is another MIG tenant's business, the GPU itself, its health timeline), and an Xid
// that counts down shows without its sentence and values (they name the process it hit).
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { MIG_WITHHELD_REASON } from "../../collector/api/tenant-scope.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState } from "../../shared/proto.js";
import { xidEvent } from "../collector/health/events.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  inventory,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import { ACME, MIG, MIG_GPU, type ShownFlag, statementDownMs, tenantApp, tenantGet } from "./tenant-app.js";

const TOKEN = "tenant-mig-down-admin-token-0123456789";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

interface Shown extends ShownFlag {
  reason: string;
  values: Record<string, unknown>;
}

/** The GPU (in MIG mode) reports every 100 s up to `untilMs`, lost over [lostFrom, lostTo). */
function start(untilMs: number, lostFrom: number, lostTo: number): FlagHarness {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(inventory(HOST, T0, [MIG_GPU]), T0);
  for (let t = T0; t < untilMs; t += 10 * INTERVAL) {
    const lost = t >= lostFrom && t < lostTo;
    harness.frame(t, { state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK });
  }
  return harness;
}

/** acme leases the MIG device over [fromMs, toMs) (open when null). */
function serve(harness: FlagHarness, nowMs: number, fromMs: number, toMs: number | null): FastifyInstance {
  const now = () => nowMs;
  const leases = new LeaseService(harness.store.leases, now);
  leases.create(
    { id: "acme-mig", device: MIG, tenant: "acme", start: fromMs, ...(toMs !== null ? { end: toMs } : {}) },
    "test",
  );
  app = tenantApp(harness, leases, now, TOKEN, ACME);
  return app;
}

const flagsOf = async (a: FastifyInstance, query: string) =>
  ((await tenantGet(a, `/api/v1/flags?${query}`)) as { flags: Shown[] }).flags;

describe("a MIG device lease and its GPU's down flags", () => {
  it("shows its GPU's lost flag clipped to the lease, as its statement counts it, and nothing else of the GPU", async () => {
    const harness = start(T0 + 90 * MIN, T0 + 30 * MIN, T0 + 45 * MIN);
    harness.clock.now = T0 + 90 * MIN;
    harness.xid([xidEvent(1, 13, { time_ms: T0 + 35 * MIN })]);
    const a = serve(harness, T0 + 90 * MIN, T0 + 20 * MIN, T0 + 40 * MIN);
    // The statement's line names the GPU the MIG device is on.
    const statement = (await tenantGet(
      a,
      `/api/v1/reports/statement?month=${new Date(T0).toISOString().slice(0, 7)}`,
    )) as {
      lines: { device: string; gpu: string }[];
    };
    expect(statement.lines.map((l) => [l.device, l.gpu])).toEqual([[MIG, UUID]]);

    // The workload's Xid during the lease is not the tenant's: another MIG device's workload.
    expect(await flagsOf(a, "state=all&kind=xid")).toEqual([]);
    const shown = await flagsOf(a, "state=all");
    expect(shown.map((f) => [f.kind, f.gpuUuid, f.startMs, f.endMs])).toEqual([
      ["lost", UUID, T0 + 30 * MIN, T0 + 40 * MIN],
    ]);
    expect(shown.reduce((n, f) => n + ((f.endMs ?? 0) - f.startMs), 0)).toBe(await statementDownMs(a, T0));
    expect((await flagsOf(a, `state=all&gpu=${UUID}`)).map((f) => f.kind)).toEqual(["lost"]);
    // The GPU itself and its health timeline stay out of reach.
    for (const url of [`/api/v1/gpus/${UUID}`, `/api/v1/gpus/${UUID}/health?from=${T0}`]) {
      const r = await a.inject({ method: "GET", url, headers: { authorization: "Bearer gputel_acme" } });
      expect(r.statusCode, url).toBe(404);
    }
  });

  it("counts its GPU's open down flag in its summary; an Xid that counts down shows without its details", async () => {
    const now = T0 + 60 * MIN;
    const harness = start(now, T0 + 30 * MIN, now + MIN);
    harness.clock.now = now;
    harness.xid([xidEvent(1, 48, { time_ms: T0 + 40 * MIN })]);
    const a = serve(harness, now, T0 + 20 * MIN, null);
    const open = await flagsOf(a, "state=open");
    expect(open.map((f) => [f.kind, f.gpuUuid, f.startMs])).toEqual([
      ["lost", UUID, T0 + 30 * MIN],
      ["xid", UUID, T0 + 40 * MIN],
    ]);
    const xid = open.find((f) => f.kind === "xid");
    expect([xid?.reason, xid?.values]).toEqual([MIG_WITHHELD_REASON, {}]);
    expect(JSON.stringify(open)).not.toMatch(/python3|4242/);
    const summary = (await tenantGet(a, "/api/v1/summary")) as {
      flags: { open: number; byKind: Record<string, number> };
    };
    expect(summary.flags.open).toBe(open.length);
    expect(summary.flags.byKind.lost).toBe(1);
  });
});
