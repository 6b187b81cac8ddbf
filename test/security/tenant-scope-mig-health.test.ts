// A MIG device's tenant is billed its GPU's down time (tenant-scope-mig-down.test.ts), so the GPU's
// health timeline answers it too, over its stays on the MIG device alone (each listed with
// `downOnly`) and with what its flag list shows of them: the GPU's down episodes, the same
// entries (ids, clipping, an Xid's details withheld), and the hardware down time its statement
// counts. Nothing of the GPU's kernel-log events (each names the process it hit, perhaps another
// MIG tenant's) nor of operators' notes: the events list of the GPU answers empty. The GPU itself,
// its series, another MIG device's processes, the time between its stays, another tenant and a
// GPU never leased stay 404 (or out of the list).
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { MIG_WITHHELD_REASON } from "../../collector/api/tenant-scope.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState, type IProcessRecord } from "../../shared/proto.js";
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
import {
  type DetailedFlag,
  MIG,
  MIG_GPU,
  STAY_ID_STEP,
  statementDownMs,
  storeProcessSet,
  tenantApp,
  tenantGet,
  timelineOf,
} from "./tenant-app.js";

const TOKEN = "tenant-mig-health-admin-token-01234567";
const NOW = T0 + 90 * MIN;
const TENANTS: Record<string, Principal> = {
  gputel_acme: { role: "tenant", tenant: "acme", actor: "t" },
  gputel_initech: { role: "tenant", tenant: "initech", actor: "t" },
};
/** The MIG device beside acme's, globex's all along. */
const MIG2 = "MIG-11111111-1111-1111-1111-111111111111";
const RIVAL = /rivaljob|5151/;

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

/** An Xid of globex's job (pid 5151) on the GPU, its line naming the job. */
const rivalXid = (seq: number, code: number, atMs: number) =>
  xidEvent(seq, code, {
    time_ms: atMs,
    pid: 5151,
    process_name: "rivaljob",
    message: `NVRM: Xid (PCI:0000:01:00): ${code}, pid=5151, name=rivaljob, Ch 00000008`,
  });

/**
 * The GPU (in MIG mode: acme's MIG device and globex's MIG2) reports every 100 s, lost over
 * [30 min, 45 min) and [58 min, 85 min). globex's job hits a workload Xid (13) at 22 min and a
 * hardware one (54, more severe: a new xid flag, open since) at 31 min; an operator's note on the
 * first lost flag names the job. acme leases MIG over [20, 40) and [60, 80) min, globex over
 * [40, 60) between, and MIG2 from T0 on. Each tenant's processes run on its MIG device.
 */
function serve(): FastifyInstance {
  h = flagHarness();
  const harness = h;
  // MIG2 beside MIG: the same profile, the GPU's next instance.
  const beside = MIG_GPU.mig_devices.map((d) => ({ ...d, uuid: MIG2, device_index: 1, gpu_instance_id: 2 }));
  harness.store.writeInventory(
    inventory(HOST, T0, [{ ...MIG_GPU, mig_devices: [...MIG_GPU.mig_devices, ...beside] }]),
    T0,
  );
  let seq = 0;
  for (let t = T0; t < NOW; t += 10 * INTERVAL) {
    const lost = (t >= T0 + 30 * MIN && t < T0 + 45 * MIN) || (t >= T0 + 58 * MIN && t < T0 + 85 * MIN);
    harness.frame(t, { state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK });
    if ((t - T0) % (10 * MIN) === 0) {
      const on = (mig: string, pid: number, name: string): IProcessRecord => ({
        gpu_uuid: UUID,
        mig_uuid: mig,
        pid,
        start_ms: T0,
        name,
        used_memory_mib: 1000,
      });
      seq += 1;
      storeProcessSet(harness, seq, t, [on(MIG, 4242, "python3"), on(MIG2, 5151, "rivaljob")]);
    }
  }
  harness.clock.now = T0 + 22 * MIN;
  harness.xid([rivalXid(1, 13, T0 + 22 * MIN)]);
  harness.clock.now = T0 + 31 * MIN;
  harness.xid([rivalXid(2, 54, T0 + 31 * MIN)]);
  harness.clock.now = NOW;
  const lost = harness.history("lost").find((f) => f.startMs === T0 + 30 * MIN);
  harness.engine.acknowledge(lost?.id ?? 0, "rivaljob (pid 5151) wedged it", T0 + 35 * MIN);

  const now = () => NOW;
  const leases = new LeaseService(harness.store.leases, now);
  const lease = (id: string, device: string, tenant: string, fromMin: number, toMin: number | null) =>
    leases.create(
      {
        id,
        device,
        tenant,
        start: T0 + fromMin * MIN,
        ...(toMin !== null ? { end: T0 + toMin * MIN } : {}),
      },
      "test",
    );
  lease("acme-1", MIG, "acme", 20, 40);
  lease("globex-1", MIG, "globex", 40, 60);
  lease("acme-2", MIG, "acme", 60, 80);
  lease("globex-2", MIG2, "globex", 0, null);
  app = tenantApp(harness, leases, now, TOKEN, TENANTS);
  return app;
}

const range = `from=${T0}&to=${NOW}`;

async function get(a: FastifyInstance, url: string, token = "gputel_acme") {
  const r = await a.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
}

/** An entry as the flag list and the timeline both show it. */
const entry = (f: DetailedFlag) => [f.id, f.kind, f.gpuUuid, f.startMs, f.endMs, f.reason, f.values] as const;
const byId = (
  a: readonly (string | number | null | object)[],
  b: readonly (string | number | null | object)[],
) => Number(a[0]) - Number(b[0]);

describe("a MIG device's tenant and its GPU's health timeline", () => {
  it("shows its stays' down episodes as its flag list does, their down time its statement's", async () => {
    const a = serve();
    const t = await timelineOf(a, range);
    expect(t.stays).toEqual([
      { fromMs: T0 + 20 * MIN, toMs: T0 + 40 * MIN, downOnly: true },
      { fromMs: T0 + 60 * MIN, toMs: T0 + 80 * MIN, downOnly: true },
    ]);
    expect([t.fromMs, t.toMs, t.host]).toEqual([T0 + 20 * MIN, T0 + 80 * MIN, HOST]);

    // The same entries as the flag list: ids, clipping, the Xid's details withheld.
    const listed = ((await tenantGet(a, `/api/v1/flags?state=all&${range}`)) as { flags: DetailedFlag[] })
      .flags;
    expect(t.flags.map(entry).sort(byId)).toEqual(listed.map(entry).sort(byId));
    expect(t.flags.map((f) => [f.kind, f.startMs, f.endMs]).sort()).toEqual([
      ["lost", T0 + 30 * MIN, T0 + 40 * MIN],
      ["lost", T0 + 60 * MIN, T0 + 80 * MIN],
      ["xid", T0 + 31 * MIN, T0 + 40 * MIN],
      ["xid", T0 + 60 * MIN, T0 + 80 * MIN],
    ]);
    const xids = t.flags.filter((f) => f.kind === "xid").sort((x, y) => x.startMs - y.startMs);
    expect(xids.map((f) => [f.reason, f.values])).toEqual([
      [MIG_WITHHELD_REASON, {}],
      [MIG_WITHHELD_REASON, {}],
    ]);
    expect((xids[1]?.id ?? 0) - (xids[0]?.id ?? 0)).toBe(STAY_ID_STEP);

    // Down time: the statement's, stay by stay.
    expect(t.downtime).toEqual([
      { fromMs: T0 + 30 * MIN, toMs: T0 + 40 * MIN, kinds: ["lost"] },
      { fromMs: T0 + 60 * MIN, toMs: T0 + 80 * MIN, kinds: ["lost"] },
    ]);
    expect(t.downtimeMs).toBe(30 * MIN);
    expect(t.downtimeMs).toBe(await statementDownMs(a, T0));

    // No kernel-log events, no operators' notes: they name globex's job.
    expect([t.events, t.acknowledgements]).toEqual([[], []]);
    expect(JSON.stringify(t)).not.toMatch(RIVAL);
    // The fleet's view of the same time holds them (the test would pass vacuously otherwise).
    const fleet = await timelineOf(a, range, TOKEN);
    expect(fleet.events.length).toBe(2);
    expect(fleet.acknowledgements.length).toBe(1);
    expect(JSON.stringify(fleet)).toMatch(RIVAL);

    // A range over its second stay alone: that stay only, the same ids.
    const late = await timelineOf(a, `from=${T0 + 50 * MIN}&to=${NOW}`);
    expect(late.stays).toEqual([{ fromMs: T0 + 60 * MIN, toMs: T0 + 80 * MIN, downOnly: true }]);
    expect(late.flags.map((f) => f.id).sort((x, y) => x - y)).toEqual(
      t.flags
        .filter((f) => f.startMs >= T0 + 60 * MIN)
        .map((f) => f.id)
        .sort((x, y) => x - y),
    );
    expect(late.downtimeMs).toBe(20 * MIN);
  });

  it("lists none of the GPU's kernel-log events, and answers the GPU's events route as its flag list does", async () => {
    const a = serve();
    const admin = await get(a, `/api/v1/events?gpu=${UUID}&${range}`, TOKEN);
    expect((admin.body.events as unknown[]).length).toBe(2);
    for (const url of [`/api/v1/events?gpu=${UUID}&${range}`, `/api/v1/events?${range}`]) {
      const r = await get(a, url);
      expect({ url, status: r.status, events: r.body.events }).toEqual({ url, status: 200, events: [] });
    }
  });

  it("keeps the rest of the GPU, the time between its stays, another tenant and an unknown GPU at 404", async () => {
    const a = serve();
    const unknown = await get(a, `/api/v1/gpus/GPU-ffffffff/health?${range}`);
    expect(unknown.status).toBe(404);
    const between = `from=${T0 + 40 * MIN}&to=${T0 + 60 * MIN}`;
    for (const [url, token] of [
      [`/api/v1/gpus/${UUID}`, "gputel_acme"],
      [`/api/v1/gpus/${UUID}/series?${range}`, "gputel_acme"],
      [`/api/v1/gpus/${UUID}/health?${between}`, "gputel_acme"],
      [`/api/v1/events?gpu=${UUID}&${between}`, "gputel_acme"],
      [`/api/v1/gpus/GPU-ffffffff/health?${range}`, "gputel_acme"],
      [`/api/v1/events?gpu=GPU-ffffffff&${range}`, "gputel_acme"],
      [`/api/v1/gpus/${UUID}/health?${range}`, "gputel_initech"],
      [`/api/v1/events?gpu=${UUID}&${range}`, "gputel_initech"],
    ] as const) {
      const r = await get(a, url, token);
      expect({ url, token, status: r.status, keys: Object.keys(r.body) }).toEqual({
        url,
        token,
        status: 404,
        keys: Object.keys(unknown.body),
      });
    }
    // The GPU's processes: acme's own on its MIG device, never globex's on MIG2.
    const procs = (await tenantGet(a, `/api/v1/gpus/${UUID}/processes?${range}`)) as {
      processes: { pid: number; migUuid: string | null }[];
    };
    expect(procs.processes.length).toBeGreaterThan(0);
    for (const p of procs.processes) expect([p.pid, p.migUuid]).toEqual([4242, MIG]);
    expect(JSON.stringify(procs)).not.toMatch(RIVAL);
  });
});
