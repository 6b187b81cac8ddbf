// One definition of down time (issue 15: "time a leased GPU was lost, erroring, offline or stale
// counts as down"): over one fixture — a real store and a real flag engine fed frames, statuses
// and ticks, so the lost, error, stale and offline flags are the rules' own — the tenants view
// (/api/v1/tenants), the statement (/api/v1/reports/statement) and the downtime report
// (/api/v1/reports/downtime over the lease's window) give the same down time for each lease. A
// 20-second gap in a host's frames (shorter than the stale limit) is unknown time, not down time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApp } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import type { TenantsView } from "../../collector/api/tenants-view.js";
import { resolveFlagsConfig } from "../../collector/flags/config.js";
import { FlagEngine } from "../../collector/flags/engine.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import type { DowntimeReport } from "../../collector/reports/downtime-report.js";
import type { Statement } from "../../collector/reports/lease-report.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { Store } from "../../collector/store/store.js";
import { silentLogger } from "../../shared/logger.js";
import { AgentState, GpuState, type IGpuSample } from "../../shared/proto.js";

const TOKEN = "availability-admin-token-0123456789";
const SEC = 1000;
const MIN = 60 * SEC;
const H = 60 * MIN;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const T0 = NOW - 6 * H;
const MONTH = "2026-11";
const A0 = "GPU-avail-a0";
const A1 = "GPU-avail-a1";
const B0 = "GPU-avail-b0";

/** What happens when, relative to T0: [from, to) in ms. */
const LOST = [1 * H, 1 * H + 20 * MIN];
const ERROR = [2 * H, 2 * H + 10 * MIN];
const A_SILENT = [3 * H, 3 * H + 15 * MIN]; // node-a sends nothing: stale after 3 intervals
const A_GAP = [5 * H, 5 * H + 20 * SEC]; // two frames missing: not yet stale
const B_OFFLINE = [4 * H, 4 * H + 20 * MIN]; // node-b's agent says offline (last will), then online

const within = (t: number, [a, b]: number[]) => t >= T0 + (a as number) && t < T0 + (b as number);

function sample(uuid: string, index: number, t: number): IGpuSample {
  if (uuid === A0 && within(t, LOST)) return { uuid, index, state: GpuState.GPU_STATE_LOST };
  if (uuid === A0 && within(t, ERROR)) return { uuid, index, state: GpuState.GPU_STATE_TIMEOUT };
  const busy = uuid !== A1;
  return {
    uuid,
    index,
    state: GpuState.GPU_STATE_OK,
    utilization_gpu_pct: busy ? 90 : 0,
    memory_used_mib: busy ? 60_000 : 1,
    power_draw_watts: busy ? 600 : 70,
    temperature_gpu_celsius: 50,
  };
}

interface Fixture {
  dir: string;
  store: Store;
  flags: FlagEngine;
}

function build(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "gputel-availability-"));
  let clock = T0;
  const store = Store.open(join(dir, "collector.db"), { now: () => clock });
  const flags = new FlagEngine({
    store: new FlagStore(store.db),
    config: resolveFlagsConfig(),
    now: () => clock,
  });
  flags.start();
  const hosts = [
    { host: "node-a", gpus: [A0, A1] },
    { host: "node-b", gpus: [B0] },
  ];
  for (const { host, gpus } of hosts) {
    const inventory = {
      host,
      timestamp_ms: T0,
      site: "fra1",
      gpus: gpus.map((uuid, index) => ({ index, uuid, name: "NVIDIA H100 80GB HBM3" })),
    };
    store.writeInventory(inventory, T0);
    flags.onInventory(inventory, T0);
  }
  for (let k = 1, t = T0 + 10 * SEC; t <= NOW; k++, t += 10 * SEC) {
    clock = t;
    if (t === T0 + (B_OFFLINE[0] as number))
      flags.onStatus({ host: "node-b", state: AgentState.AGENT_STATE_OFFLINE, timestamp_ms: t }, t);
    if (t === T0 + (B_OFFLINE[1] as number))
      flags.onStatus({ host: "node-b", state: AgentState.AGENT_STATE_ONLINE, timestamp_ms: t }, t);
    const frames: ValidFrame[] = hosts
      .filter(({ host }) =>
        host === "node-a" ? !within(t, A_SILENT) && !within(t, A_GAP) : !within(t, B_OFFLINE),
      )
      .map(({ host, gpus }) => ({
        host,
        boot_id: `boot-${host}`,
        seq: k,
        timestamp_ms: t,
        interval_ms: 10 * SEC,
        site: "fra1",
        labels: {},
        gpus: gpus.map((uuid, index) => sample(uuid, index, t)),
      }));
    store.writeFrames(frames, t);
    flags.onFrames(frames, t);
    flags.tick(t);
  }
  return { dir, store, flags };
}

let fx: Fixture;
let app: FastifyInstance;
const LEASES = [
  // acme's GPU was lost, erroring, and its host stale; it starts and runs at odd times.
  { id: "L-acme", device: A0, tenant: "acme", start: T0 + 30 * MIN + 12_345, end: null },
  // globex's host went offline.
  { id: "L-globex", device: B0, tenant: "globex", start: T0 + 3 * H + 30 * MIN + 777, end: null },
  // initech's lease ends while its host is stale: the stretch is clipped to the lease.
  {
    id: "L-initech",
    device: A1,
    tenant: "initech",
    start: T0 + 2 * H + 45 * MIN + 1,
    end: T0 + 3 * H + 10 * MIN,
  },
];

beforeAll(() => {
  fx = build();
  const leases = new LeaseService(fx.store.leases, () => NOW);
  for (const { end, ...l } of LEASES) leases.create({ ...l, ...(end !== null ? { end } : {}) }, "t");
  app = buildApp(
    new StoreBackend({ store: fx.store, flags: fx.flags, now: () => NOW }),
    TOKEN,
    silentLogger(),
    undefined,
    {
      leases,
    },
  );
});
afterAll(async () => {
  await app?.close();
  fx?.flags.stop();
  fx?.store.close();
  if (fx) rmSync(fx.dir, { recursive: true, force: true });
});

async function get<T>(url: string): Promise<T> {
  const r = await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as T;
}

describe("availability: one definition of down time", () => {
  test("the tenants view, the statement and the downtime report agree for every lease", async () => {
    const view = await get<TenantsView>("/api/v1/tenants");
    const expected: Record<string, { ms: number; kinds: string[] }> = {
      // lost 20 min + error 10 min + stale from the last frame before the silence (15 min 10 s)
      "L-acme": { ms: 20 * MIN + 10 * MIN + 15 * MIN + 10 * SEC, kinds: ["error", "lost", "stale"] },
      "L-globex": { ms: 20 * MIN, kinds: ["offline"] },
      // stale from 10 s before 3 h up to the lease's end at 3 h 10 min
      "L-initech": { ms: 10 * MIN + 10 * SEC, kinds: ["stale"] },
    };
    for (const lease of LEASES) {
      const statement = await get<Statement>(
        `/api/v1/reports/statement?tenant=${lease.tenant}&month=${MONTH}`,
      );
      const line = statement.lines.find((l) => l.lease === lease.id);
      const end = lease.end ?? NOW;
      const report = await get<DowntimeReport>(
        `/api/v1/reports/downtime?from=${lease.start}&to=${end}&by=gpu`,
      );
      const gpu = report.down.find((d) => d.uuid === lease.device);
      const row = view.tenants.find((t) => t.tenant === lease.tenant);
      const want = expected[lease.id];

      expect(line?.leasedMs).toBe(end - lease.start);
      expect(line?.downMs, lease.id).toBe(want?.ms);
      expect(gpu?.downMs, lease.id).toBe(want?.ms);
      expect(Math.round((row?.downHoursMonth ?? 0) * H), lease.id).toBe(want?.ms);
      expect([...new Set(gpu?.intervals.flatMap((i) => i.kinds))].sort()).toEqual(want?.kinds);
      // Availability: the view's month so far is the statement's total, to the last bit.
      expect(row?.availabilityMonth).toBe(statement.total.availabilityRate);
      expect(statement.total.availabilityRate).toBe(
        (end - lease.start - (want?.ms ?? 0)) / (end - lease.start),
      );
    }
  });

  test("a gap shorter than the stale limit is unknown time, not down time", async () => {
    const gap = T0 + (A_GAP[0] as number);
    const report = await get<DowntimeReport>(
      `/api/v1/reports/downtime?from=${gap - 5 * MIN}&to=${gap + 5 * MIN}&by=gpu`,
    );
    expect(report.down).toEqual([]);
    const statement = await get<Statement>(`/api/v1/reports/statement?tenant=acme&month=${MONTH}`);
    const line = statement.lines[0];
    // Unknown: the lost and erroring minutes' samples, the stale silence and the short gap.
    expect(line?.unknownMs).toBeGreaterThan((line?.downMs ?? 0) + 10 * SEC);
  });
});
