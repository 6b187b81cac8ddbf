// A process session that runs across several of a tenant's stays on a GPU (two leases with another
// tenant's lease between them) is shown once per stay, each piece clipped to it, as a flag is
// (tenant-scope-stays.test.ts): no part of the session in the other tenant's time, none of the
// tenant's own time hidden. The first piece keeps the session's id, a later one the id plus n·2^32;
// the limit counts the pieces, the report one session over the pieces' time. Two leases back to
// back are one stay: one piece.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseService } from "../../collector/leases/service.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  inventory,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import {
  ACME,
  GPU,
  HOUR,
  STAY_ID_STEP,
  storeProcessSet,
  tenantApp,
  tenantGet,
  twoStays,
} from "./tenant-app.js";

const TOKEN = "tenant-process-stays-admin-token-0123";
const NOW = T0 + 5 * HOUR;

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

interface Piece {
  id: number;
  pid: number;
  firstSeenMs: number;
  lastSeenMs: number;
  open: boolean;
}

/** alice's pid 100 holds the GPU, seen every 10 min from T0 + 30 min to T0 + 4 h 30 min. */
function start(): FlagHarness {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
  let seq = 0;
  for (let t = T0 + 30 * MIN; t <= T0 + 4 * HOUR + 30 * MIN; t += 10 * MIN) {
    seq += 1;
    storeProcessSet(harness, seq, t, [
      { gpu_uuid: UUID, pid: 100, start_ms: T0, name: "python3", used_memory_mib: 1000, user: "alice" },
    ]);
  }
  return harness;
}

/** acme leases the GPU over [1h, 2h) and [3h, 4h); globex holds it between. */
function serve(harness: FlagHarness): FastifyInstance {
  const now = () => NOW;
  app = tenantApp(harness, twoStays(harness, now), now, TOKEN, ACME);
  return app;
}

const listOf = async (a: FastifyInstance, url: string, token?: string) =>
  ((await tenantGet(a, url, token)) as { processes: Piece[] }).processes;

describe("a process session over several of a tenant's stays", () => {
  it("shows once per lease, clipped to each, never over the other tenant's time between", async () => {
    const a = serve(start());
    const [session] = await listOf(a, `/api/v1/processes?from=${T0}&to=${NOW}`, TOKEN);
    expect(session).toMatchObject({
      pid: 100,
      firstSeenMs: T0 + 30 * MIN,
      lastSeenMs: T0 + 4 * HOUR + 30 * MIN,
    });
    const id = session?.id ?? 0;
    const both = [
      {
        id: id + STAY_ID_STEP,
        pid: 100,
        firstSeenMs: T0 + 3 * HOUR,
        lastSeenMs: T0 + 4 * HOUR - 1,
        open: false,
      },
      { id, pid: 100, firstSeenMs: T0 + HOUR, lastSeenMs: T0 + 2 * HOUR - 1, open: false },
    ];
    const pick = (list: Piece[]) =>
      list.map(({ id, pid, firstSeenMs, lastSeenMs, open }) => ({ id, pid, firstSeenMs, lastSeenMs, open }));
    for (const url of [
      `/api/v1/processes?from=${T0}&to=${NOW}`,
      `/api/v1/gpus/${UUID}/processes?from=${T0}&to=${NOW}`,
    ])
      expect(pick(await listOf(a, url)), url).toEqual(both);
    // The limit counts pieces, newest first; a range keeps the pieces that meet it.
    expect(pick(await listOf(a, `/api/v1/processes?from=${T0}&to=${NOW}&limit=1`))).toEqual([both[0]]);
    expect(pick(await listOf(a, `/api/v1/processes?from=${T0}&to=${T0 + 150 * MIN}`))).toEqual([both[1]]);
    // The report adds up both stays' time (2 h, less a millisecond each) and counts one session.
    const report = (await tenantGet(a, `/api/v1/reports/processes?from=${T0}&to=${NOW}`)) as {
      rows: { key: string; sessions: number; gpuHours: number }[];
    };
    expect(report.rows.map((r) => [r.key, r.sessions, r.gpuHours])).toEqual([["alice", 1, 2]]);
  });
});

describe("a process session over two back-to-back leases of the tenant", () => {
  it("is one session of the tenant's, its time over both leases counted once", async () => {
    const harness = start();
    const now = () => NOW;
    const leases = new LeaseService(harness.store.leases, now);
    for (const [id, fromMs, toMs] of [
      ["acme-1", T0 + HOUR, T0 + 2 * HOUR],
      ["acme-2", T0 + 2 * HOUR, T0 + 3 * HOUR],
    ] as const)
      leases.create({ id, device: UUID, tenant: "acme", start: fromMs, end: toMs }, "test");
    app = tenantApp(harness, leases, now, TOKEN, ACME);
    const [session] = await listOf(app, `/api/v1/processes?from=${T0}&to=${NOW}`, TOKEN);
    const pick = (list: Piece[]) =>
      list.map(({ id, pid, firstSeenMs, lastSeenMs, open }) => ({ id, pid, firstSeenMs, lastSeenMs, open }));
    expect(pick(await listOf(app, `/api/v1/processes?from=${T0}&to=${NOW}`))).toEqual([
      { id: session?.id, pid: 100, firstSeenMs: T0 + HOUR, lastSeenMs: T0 + 3 * HOUR - 1, open: false },
    ]);
    const report = (await tenantGet(app, `/api/v1/reports/processes?from=${T0}&to=${NOW}`)) as {
      rows: { key: string; sessions: number; gpus: number; gpuHours: number }[];
    };
    expect(report.rows.map((r) => [r.key, r.sessions, r.gpus, r.gpuHours])).toEqual([["alice", 1, 1, 2]]);
  });
});
