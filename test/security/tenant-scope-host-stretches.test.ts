// Issue 15: a tenant sees only its GPUs during its lease periods, and availability counts the time
// its GPU's host was offline or stale. A host-level flag therefore concerns the tenant only for the
// stretches its GPU was on that host during its lease: a GPU that moved during the lease (node-1,
// then globex-node, then node-1 again) shows each host's offline flag over the stretch it was
// there and nothing of either host outside it, and a MIG device lease shows its GPU's host's flags.
// The flags the tenant sees cover the same time as its statement's down time. An Xid the agent
// could not map to a GPU is flagged on the host: its process may be any tenant's, so it is withheld.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { HOST_XID_WITHHELD_REASON } from "../../collector/api/tenant-scope.js";
import { LeaseService } from "../../collector/leases/service.js";
import { AgentState, type AgentStateValue, type IGpuInfo, type IInventory } from "../../shared/proto.js";
import { xidEvent } from "../collector/health/events.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import { GPU, MIG, MIG_GPU, type ShownFlag, statementDownMs, tenantApp, tenantGet } from "./tenant-app.js";

const OTHER = "globex-node";
const TOKEN = "tenant-host-stretch-admin-token-0123";
const TENANTS: Record<string, Principal> = { gputel_acme: { role: "tenant", tenant: "acme", actor: "t" } };

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

function inventory(harness: FlagHarness, host: string, at: number, gpus: IInventory["gpus"]): void {
  harness.store.writeInventory({ host, site: "par1", labels: {}, timestamp_ms: at, gpus }, at);
}

/** The GPU is on `host` from `at` on (the other host's inventory no longer lists it). */
function moveTo(harness: FlagHarness, host: string, at: number, gpu: IGpuInfo = GPU): void {
  inventory(harness, host === HOST ? OTHER : HOST, at, []);
  inventory(harness, host, at, [gpu]);
}

/** `host` is offline over [fromMs, toMs) (its last will, then its agent back). */
function offline(harness: FlagHarness, host: string, fromMs: number, toMs: number): void {
  const status = (state: AgentStateValue, at: number) =>
    harness.engine.onStatus({ host, state, reason: "maintenance", timestamp_ms: at }, at);
  status(AgentState.AGENT_STATE_OFFLINE, fromMs);
  status(AgentState.AGENT_STATE_ONLINE, toMs);
}

function start(gpu: IGpuInfo = GPU): FlagHarness {
  h = flagHarness();
  inventory(h, HOST, T0, [gpu]);
  inventory(h, OTHER, T0, []);
  for (let t = T0; t < T0 + 10 * MIN; t += 10 * INTERVAL) h.frame(t, {});
  return h;
}

function serve(harness: FlagHarness, device: string, fromMs: number, toMs: number, nowMs: number) {
  const now = () => nowMs;
  const leases = new LeaseService(harness.store.leases, now);
  leases.create({ id: "l-acme", device, tenant: "acme", start: fromMs, end: toMs }, "test");
  app = tenantApp(harness, leases, now, TOKEN, TENANTS);
  return app;
}

async function offlineFlags(a: FastifyInstance): Promise<{ host: string; fromMs: number; toMs: number }[]> {
  const { flags } = (await tenantGet(a, "/api/v1/flags?state=all")) as { flags: ShownFlag[] };
  return flags
    .filter((f) => f.kind === "offline")
    .map((f) => ({ host: f.host, fromMs: f.startMs, toMs: f.endMs ?? Number.POSITIVE_INFINITY }))
    .sort((x, y) => x.fromMs - y.fromMs);
}

/**
 * Leased [T0, T0+3h): the GPU on node-1, on globex-node over [T0+1h, T0+2h), back on node-1;
 * `host` offline over [fromMs, toMs).
 */
function awayAndBack(host: string, fromMs: number, toMs: number): FastifyInstance {
  const harness = start();
  moveTo(harness, OTHER, T0 + 60 * MIN);
  moveTo(harness, HOST, T0 + 120 * MIN);
  offline(harness, host, fromMs, toMs);
  return serve(harness, UUID, T0, T0 + 180 * MIN, T0 + 200 * MIN);
}

const shownMs = (flags: readonly { fromMs: number; toMs: number }[]) =>
  flags.reduce((n, f) => n + (f.toMs - f.fromMs), 0);

describe("a tenant's host-level flags follow the hosts its GPU was on during its lease", () => {
  it("a GPU moved during the lease shows each host's flag over its own stretch there, and nothing else", async () => {
    const harness = start();
    // Leased [T0, T0+2h); on node-1 for the first hour, on globex-node for the second.
    moveTo(harness, OTHER, T0 + 60 * MIN);
    offline(harness, HOST, T0 + 30 * MIN, T0 + 90 * MIN);
    offline(harness, OTHER, T0 + 30 * MIN, T0 + 90 * MIN);
    const a = serve(harness, UUID, T0, T0 + 120 * MIN, T0 + 180 * MIN);
    expect(await offlineFlags(a)).toEqual([
      { host: HOST, fromMs: T0 + 30 * MIN, toMs: T0 + 60 * MIN },
      { host: OTHER, fromMs: T0 + 60 * MIN, toMs: T0 + 90 * MIN },
    ]);
    expect(await statementDownMs(a, T0)).toBe(60 * MIN);
  });

  it("a GPU that leaves node-1 and comes back within node-1's flag shows none of the time it was away", async () => {
    const a = awayAndBack(HOST, T0 + 30 * MIN, T0 + 150 * MIN);
    // One entry per stretch on node-1 the flag overlaps, each clipped to it; never over
    // [T0+60m, T0+120m), when the GPU was on globex-node.
    const shown = await offlineFlags(a);
    expect(shown).toEqual([
      { host: HOST, fromMs: T0 + 30 * MIN, toMs: T0 + 60 * MIN },
      { host: HOST, fromMs: T0 + 120 * MIN, toMs: T0 + 150 * MIN },
    ]);
    expect(shownMs(shown)).toBe(await statementDownMs(a, T0));
  });

  it("another host's flag held over the GPU's stay there is shown, though the GPU is elsewhere at both of its ends", async () => {
    const a = awayAndBack(OTHER, T0 + 30 * MIN, T0 + 150 * MIN);
    expect(await offlineFlags(a)).toEqual([{ host: OTHER, fromMs: T0 + 60 * MIN, toMs: T0 + 120 * MIN }]);
    expect(await statementDownMs(a, T0)).toBe(60 * MIN);
  });

  it("a lease period that starts and ends on node-1 shows nothing of node-1 while its GPU was away", async () => {
    const a = awayAndBack(HOST, T0 + 70 * MIN, T0 + 110 * MIN);
    expect(await offlineFlags(a)).toEqual([]);
    expect(await statementDownMs(a, T0)).toBe(0);
  });

  it("a MIG device lease shows its GPU's host's offline flag, as its statement counts it down", async () => {
    const harness = start(MIG_GPU);
    offline(harness, HOST, T0 + 30 * MIN, T0 + 45 * MIN);
    offline(harness, OTHER, T0 + 30 * MIN, T0 + 45 * MIN);
    const a = serve(harness, MIG, T0, T0 + 60 * MIN, T0 + 90 * MIN);
    const shown = await offlineFlags(a);
    expect(shown).toEqual([{ host: HOST, fromMs: T0 + 30 * MIN, toMs: T0 + 45 * MIN }]);
    expect(shownMs(shown)).toBe(await statementDownMs(a, T0));
  });

  it("a MIG device lease's summary counts its GPU's host's open offline flag, as its flag list shows it", async () => {
    const harness = start(MIG_GPU);
    harness.engine.onStatus(
      {
        host: HOST,
        state: AgentState.AGENT_STATE_OFFLINE,
        reason: "maintenance",
        timestamp_ms: T0 + 30 * MIN,
      },
      T0 + 30 * MIN,
    );
    const a = serve(harness, MIG, T0, T0 + 180 * MIN, T0 + 60 * MIN);
    const { flags } = (await tenantGet(a, "/api/v1/flags?state=open")) as { flags: ShownFlag[] };
    expect(flags.map((f) => [f.kind, f.host, f.endMs])).toEqual([["offline", HOST, null]]);
    const summary = (await tenantGet(a, "/api/v1/summary")) as {
      flags: { open: number; byKind: Record<string, number> };
      hosts: { total: number };
    };
    expect(summary.flags).toMatchObject({ open: flags.length, byKind: { offline: 1 } });
    expect(summary.hosts.total).toBe(1);
  });
  it("an Xid the agent could not map to a GPU shows on the host without the process it names", async () => {
    const harness = start();
    harness.clock.now = T0 + 30 * MIN;
    const xid = { time_ms: T0 + 30 * MIN, gpu_uuid: "", pci_bus_id: "0000:99:00", pid: 5151 };
    harness.xid([xidEvent(1, 48, { ...xid, process_name: "rivaljob" })]);
    const a = serve(harness, UUID, T0, T0 + 60 * MIN, T0 + 40 * MIN);
    const { flags } = (await tenantGet(a, "/api/v1/flags?state=all")) as {
      flags: (ShownFlag & { reason: string; values: object })[];
    };
    // Its GPU is unknown: the process may be another tenant's, on another GPU of the host.
    expect(flags.map((f) => [f.kind, f.gpuUuid, f.startMs, f.reason, f.values])).toEqual([
      ["xid", null, T0 + 30 * MIN, HOST_XID_WITHHELD_REASON, {}],
    ]);
    const timeline = `/api/v1/gpus/${UUID}/health?from=${T0}&to=${T0 + 40 * MIN}`;
    for (const url of ["/api/v1/flags?state=all", `/api/v1/gpus/${UUID}`, "/api/v1/summary", timeline])
      expect(JSON.stringify(await tenantGet(a, url)), url).not.toMatch(/rivaljob|5151/);
  });
});
