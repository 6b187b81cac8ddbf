// Leases on MIG devices (issue 15) on a real collector: a MIG device the GPU's inventory lists can
// be leased (one it does not list is 404), a whole-GPU lease collides with it, and the statement
// bills each MIG lease its own time and price with no usage of its GPU (usageMeasured false, the
// reason given), so the tenant's busy time and utilization rate are its whole-GPU lease's alone.
// /api/v1/gpus/:id shows the MIG devices with memory and no utilization; a tenant holding only a MIG
// device does not see its GPU there.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { newToken } from "../../../collector/api/tokens.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { Statement } from "../../../collector/reports/lease-report.js";
import { encodeInventory } from "../../../shared/codec.js";
import { MIG_NO_UTILIZATION } from "../../../shared/gpu-id.js";
import { SCHEMA_VERSION } from "../../../shared/proto.js";
import { startTestCollector, type TestCollector } from "../../security/collector-helpers.js";
import { frameFor } from "../leases/store-helpers.js";

const TOKEN = "mig-lease-admin-token-0123456789";
const HOST = "mig-host";
const G1 = "GPU-513536b6-7d19-9063-b049-1e69664bb298";
const G2 = "GPU-bbbbbbbb-2222-3333-4444-555555555555";
const M0 = "MIG-00000000-0000-0000-0000-000000000000";
const M1 = "MIG-11111111-1111-1111-1111-111111111111";
const MIN = 60_000;
const START = Math.floor((Date.now() - 100 * MIN) / MIN) * MIN;
const MONTH = new Date(START).toISOString().slice(0, 7);

let c: TestCollector;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${c.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const lease = (id: string, device: string, price: number) =>
  call("POST", "/api/v1/leases", {
    id,
    device,
    tenant: "acme",
    start: new Date(START).toISOString(),
    end: new Date(START + 10 * MIN).toISOString(),
    pricePerGpuHour: price,
    currency: "EUR",
  });

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  // 20 minutes at one sample a second, both GPUs at 50 % (busy).
  const frames = Array.from({ length: 1200 }, (_, i) => frameFor(HOST, [G1, G2], START + i * 1000, i + 1));
  for (let i = 0; i < frames.length; i += 100)
    c.running.store.writeFrames(frames.slice(i, i + 100), Date.now());
  const mig = (uuid: string, i: number) => ({
    uuid,
    device_index: i,
    profile: "3g.40gb",
    gpu_instance_id: 1 + i,
    compute_instance_id: 0,
    sm_count: 42,
    memory_total_mib: 40_192,
    memory_used_mib: 100 * (i + 1),
  });
  const payload = encodeInventory({
    schema_version: SCHEMA_VERSION,
    host: HOST,
    timestamp_ms: Date.now(),
    gpus: [
      { index: 0, uuid: G1, mig_mode: true, mig_devices: [mig(M0, 0), mig(M1, 1)] },
      { index: 1, uuid: G2, mig_mode: false },
    ],
  });
  const checked = checkMessage(`gputel/v1/${HOST}/inventory`, payload, {
    username: undefined,
    nowMs: Date.now(),
  });
  if (!checked.inventory) throw new Error(JSON.stringify(checked.rejections));
  c.running.store.writeInventory(checked.inventory, Date.now());
});
afterAll(async () => {
  await c?.close();
});

describe("MIG devices at the collector", () => {
  test("/api/v1/gpus/:id lists the MIG devices with memory and utilization null with the reason", async () => {
    const r = await call("GET", `/api/v1/gpus/${G1}`);
    expect(r.status).toBe(200);
    expect(r.body.migDevices).toEqual([
      expect.objectContaining({
        uuid: M0,
        deviceIndex: 0,
        profile: "3g.40gb",
        memoryTotalMib: 40_192,
        memoryUsedMib: 100,
      }),
      expect.objectContaining({ uuid: M1, deviceIndex: 1, memoryUsedMib: 200 }),
    ]);
    for (const d of r.body.migDevices as { utilization: unknown; utilizationAbsent: string }[]) {
      expect(d.utilization).toBeNull();
      expect(d.utilizationAbsent).toBe(MIG_NO_UTILIZATION);
    }
    expect((await call("GET", `/api/v1/gpus/${G2}`)).body.migDevices).toBeUndefined();
  });

  test("a recorded MIG device is leased on its GPU; an unknown one is 404; the whole GPU collides", async () => {
    const m0 = await lease("acme-m0", M0, 2);
    expect(m0.status).toBe(201);
    expect(m0.body).toMatchObject({ device: M0, gpu: G1 });
    expect((await lease("acme-m1", M1, 1)).status).toBe(201);
    expect((await lease("acme-g2", G2, 3)).status).toBe(201);
    const unknown = await lease("acme-x", "MIG-99999999-0000-0000-0000-000000000000", 1);
    expect([unknown.status, unknown.body.error]).toEqual([404, "unknown_device"]);
    expect((await lease("acme-g1", G1, 5)).status).toBe(409);
  });

  test("the statement bills MIG leases their own time and price with no usage, nothing counted twice", async () => {
    const r = await call("GET", `/api/v1/reports/statement?tenant=acme&month=${MONTH}`);
    expect(r.status).toBe(200);
    const s = r.body as unknown as Statement;
    const by = new Map(s.lines.map((l) => [l.lease, l]));
    for (const [id, cost] of [
      ["acme-m0", 333_333],
      ["acme-m1", 166_667],
    ] as const) {
      expect(by.get(id)).toMatchObject({
        gpu: G1,
        leasedMs: 10 * MIN,
        costMicros: cost,
        busyMs: 0,
        idleMs: 0,
        idleHeldMs: 0,
        energyCwms: 0,
        utilCount: 0,
        downMs: 0,
        usageMeasured: false,
        usageAbsent: MIG_NO_UTILIZATION,
        utilizationRate: null,
      });
    }
    expect(by.get("acme-g2")).toMatchObject({ busyMs: 10 * MIN, costMicros: 500_000, usageMeasured: true });
    expect(s.total).toMatchObject({
      leases: 3,
      gpus: 2,
      leasedMs: 30 * MIN,
      busyMs: 10 * MIN,
      utilizationRate: 1,
      costMicros: { EUR: { cost: 333_333 + 166_667 + 500_000, paidIdle: 0 } },
    });
  });

  test("a tenant holding only a MIG device gets its GPU's 404: no whole-GPU data", async () => {
    const open = await call("POST", "/api/v1/leases", {
      id: "beta-m1",
      device: M1,
      tenant: "beta",
      start: new Date(START + 20 * MIN).toISOString(),
    });
    expect(open.status).toBe(201);
    const t = newToken();
    c.running.store.tokens.insert(t.id, "tenant:beta", t.digest, "", Date.now());
    const r = await fetch(`${c.url}/api/v1/gpus/${G1}`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(r.status).toBe(404);
  });
});
