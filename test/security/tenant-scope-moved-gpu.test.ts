// Issue 15: a tenant never sees another tenant's host names. A GPU acme leased on node-1 is moved
// to globex-node after acme's lease ended; acme, looking back at its lease, is shown node-1 (the
// host the GPU was on then, as its lease report lines say), never globex-node: in the GPU's
// series, its health timeline, the usage report by GPU (CSV names: a moved GPU by its UUID) and its flags (the host-level
// flags of the host its GPU was on during the lease, not of the one it is on now).
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { LeaseService } from "../../collector/leases/service.js";
import { AgentState, GpuState } from "../../shared/proto.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  inventory,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import { tenantApp } from "./tenant-app.js";

const HOUR = 3600_000;
const NEW_HOST = "globex-node";
const LEASE_END = T0 + HOUR;
const MOVE = T0 + 2 * HOUR;
const NOW = T0 + 4 * HOUR;
const TOKEN = "tenant-moved-admin-token-0123456789";
const TENANTS: Record<string, Principal> = { gputel_acme: { role: "tenant", tenant: "acme", actor: "t" } };

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

const offline = (host: string, at: number) =>
  h?.engine.onStatus(
    { host, state: AgentState.AGENT_STATE_OFFLINE, reason: "maintenance", timestamp_ms: at },
    at,
  );

function setup(): FastifyInstance {
  h = flagHarness();
  const harness = h;
  const gpu = { index: 0, uuid: UUID, name: "NVIDIA H100 80GB HBM3" };
  harness.store.writeInventory(inventory(HOST, T0, [gpu]), T0);
  harness.store.writeInventory(inventory(NEW_HOST, T0, []), T0);
  for (let t = T0; t < LEASE_END; t += 10 * INTERVAL) harness.frame(t, { utilization_gpu_pct: 90 });
  // Both hosts go offline during acme's lease: only node-1 held its GPU then.
  offline(HOST, T0 + 30 * 60_000);
  offline(NEW_HOST, T0 + 30 * 60_000);
  // After the lease: the GPU moves to globex-node (inventories and frames say so).
  harness.store.writeInventory(inventory(HOST, MOVE, []), MOVE);
  harness.store.writeInventory(inventory(NEW_HOST, MOVE, [gpu]), MOVE);
  for (let t = MOVE; t < NOW; t += 10 * INTERVAL)
    harness.frame(
      t,
      { state: GpuState.GPU_STATE_OK, utilization_gpu_pct: 10 },
      { host: NEW_HOST, boot_id: "agent-9" },
    );
  const now = () => NOW;
  const leases = new LeaseService(harness.store.leases, now);
  leases.create({ id: "l-acme", device: UUID, tenant: "acme", start: T0, end: LEASE_END }, "test");
  app = tenantApp(harness, leases, now, TOKEN, TENANTS);
  return app;
}

async function get(a: FastifyInstance, url: string, token = "gputel_acme") {
  const r = await a.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, text: r.body };
}

const lease = `from=${T0}&to=${LEASE_END}`;

describe("a tenant's past lease of a GPU that moved since", () => {
  it("the admin sees the GPU on its new host", async () => {
    const a = setup();
    const gpu = JSON.parse((await get(a, `/api/v1/gpus/${UUID}`, TOKEN)).text) as { host: string };
    expect(gpu.host).toBe(NEW_HOST);
  });

  it("the series names the host of the lease", async () => {
    const a = setup();
    const r = await get(a, `/api/v1/gpus/${UUID}/series?${lease}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ uuid: UUID, host: HOST });
    expect(r.text).not.toContain(NEW_HOST);
  });

  it("the tenants view's ended lease names the host of the lease, and no index it cannot know", async () => {
    const a = setup();
    const r = await get(a, "/api/v1/tenants");
    expect(r.status).toBe(200);
    const ended = (JSON.parse(r.text) as { ended: Record<string, unknown>[] }).ended;
    expect(ended).toEqual([
      { tenant: "acme", uuid: UUID, host: HOST, index: -1, leaseId: "l-acme", sinceMs: T0, endMs: LEASE_END },
    ]);
    expect(r.text).not.toContain(NEW_HOST);
  });

  it("the health timeline names the host of the lease", async () => {
    const a = setup();
    const r = await get(a, `/api/v1/gpus/${UUID}/health?from=${T0}&to=${NOW}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ uuid: UUID, host: HOST });
    expect(r.text).not.toContain(NEW_HOST);
  });

  it("the usage report by GPU never names the host it moved to: the CSV names a moved GPU by its UUID", async () => {
    const a = setup();
    for (const format of ["json", "csv"]) {
      const r = await get(a, `/api/v1/reports/utilization?from=${T0}&to=${NOW}&by=gpu&format=${format}`);
      expect(r.status).toBe(200);
      expect(r.text).not.toContain(NEW_HOST);
      if (format === "csv") expect(r.text).toMatch(new RegExp(`^${UUID},`, "m"));
    }
  });

  it("its flags are the host-level flags of the host it leased on, not of the GPU's host now", async () => {
    const a = setup();
    const r = await get(a, "/api/v1/flags?state=all");
    expect(r.status).toBe(200);
    const flags = (JSON.parse(r.text) as { flags: { kind: string; host: string }[] }).flags;
    expect(flags.filter((f) => f.kind === "offline").map((f) => f.host)).toEqual([HOST]);
    expect(r.text).not.toContain(NEW_HOST);
  });
});
