// Reports and views over more flag episodes than one store read holds (10,000): each counts every
// episode it needs, not the newest 10,000 of the fleet's with its own older ones left out.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../../collector/api/params.js";
import { REPORT_SESSIONS } from "../../../collector/api/process-backend.js";
import type { FlagKind, NewFlag } from "../../../collector/flags/types.js";
import { LeaseService } from "../../../collector/leases/service.js";
import { GPU, HOUR, storeProcessSet, tenantApp, tenantGet } from "../../security/tenant-app.js";
import { type FlagHarness, flagHarness, HOST, inventory, T0, UUID } from "../health/flag-harness.js";

const TOKEN = "capped-reads-admin-token-0123456789";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

const base = { severity: "info" as const, site: "", labels: {}, values: {}, reason: "r" };

/** One closed episode of `kind` over [startMs, endMs). */
function episode(
  harness: FlagHarness,
  flag: Omit<NewFlag, keyof typeof base> & Partial<NewFlag>,
  endMs: number,
) {
  const flags = harness.store.flagStore();
  const f = flags.insert({ ...base, ...flag }, flag.startMs);
  flags.close({ ...f, endMs });
}

/** More closed episodes of `kind` than one read holds, on other GPUs (of `host`, or of many hosts), all from `fromMs`. */
function fleetEpisodes(harness: FlagHarness, kind: FlagKind, fromMs: number, host?: string) {
  harness.store.flagStore().transaction(() => {
    for (let i = 0; i <= LIMITS.maxFlagRows; i++)
      episode(
        harness,
        {
          kind,
          host: host ?? `node-${2 + (i % 500)}`,
          gpuUuid: `GPU-other-${i}`,
          gpuIndex: i % 8,
          startMs: fromMs + i,
        },
        fromMs + i + 1,
      );
  });
}

function start(now: number): FastifyInstance {
  h = flagHarness();
  h.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
  const leases = new LeaseService(h.store.leases, () => now);
  app = tenantApp(h, leases, () => now, TOKEN, {});
  return app;
}

describe("the process report", () => {
  it("counts a session's idle-held time however many newer idle-held episodes the fleet has", async () => {
    const now = T0 + 5 * HOUR;
    const a = start(now);
    const harness = h as FlagHarness;
    const alice = { gpu_uuid: UUID, pid: 100, start_ms: T0, name: "python3", user: "alice" };
    storeProcessSet(harness, 1, T0, [alice]);
    storeProcessSet(harness, 2, T0 + 3 * HOUR, [alice]);
    // alice held the GPU idle for an hour; then the fleet's other GPUs were idle-held more times
    // than one read holds.
    episode(
      harness,
      { kind: "idle-held", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: T0 + HOUR },
      T0 + 2 * HOUR,
    );
    fleetEpisodes(harness, "idle-held", T0 + 3 * HOUR);
    const report = (await tenantGet(a, `/api/v1/reports/processes?from=${T0}&to=${now}`, TOKEN)) as {
      rows: { key: string; gpuHours: number; idleHeldHours: number }[];
    };
    expect(report.rows.map((r) => [r.key, r.gpuHours, r.idleHeldHours])).toEqual([["alice", 3, 1]]);
  });
});

describe("the process report over more sessions than it reads", () => {
  it("says it is truncated", async () => {
    const now = T0 + 5 * HOUR;
    const a = start(now);
    const harness = h as FlagHarness;
    const session = (pid: number) => ({
      gpuUuid: UUID,
      migUuid: "",
      pid,
      startMs: T0,
      name: "python3",
      usedMemoryMib: null,
      peakMemoryMib: null,
      smPct: null,
      memPct: null,
      uid: null,
      user: "alice",
      workloadKind: "none",
      containerId: null,
      podUid: null,
      jobId: null,
      unit: null,
      absent: [],
    });
    const one = (pids: number[], at: number) => ({
      host: HOST,
      bootId: "b1",
      seq: at,
      timestampMs: at,
      truncated: true,
      processes: pids.map(session),
    });
    // One session more than a report reads, a single set (the store's write is one transaction).
    const pids = Array.from({ length: REPORT_SESSIONS + 1 }, (_, i) => i + 1);
    harness.store.writeProcesses(one(pids, T0 + HOUR), T0 + HOUR);
    const cut = (await tenantGet(a, `/api/v1/reports/processes?from=${T0}&to=${now}`, TOKEN)) as {
      truncated: boolean;
      rows: { key: string; sessions: number }[];
    };
    expect(cut.rows.map((r) => [r.key, r.sessions])).toEqual([["alice", REPORT_SESSIONS]]);
    expect(cut.truncated).toBe(true);
    const whole = (await tenantGet(
      a,
      `/api/v1/reports/processes?from=${T0 + 2 * HOUR}&to=${now}`,
      TOKEN,
    )) as {
      truncated: boolean;
    };
    expect(whole.truncated).toBe(false);
  });
});

describe("the health report", () => {
  it("counts a GPU's down time however many newer lost episodes the fleet has", async () => {
    const now = T0 + 5 * HOUR;
    const a = start(now);
    const harness = h as FlagHarness;
    episode(
      harness,
      { kind: "lost", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: T0 + HOUR },
      T0 + 2 * HOUR,
    );
    fleetEpisodes(harness, "lost", T0 + 3 * HOUR);
    const report = (await tenantGet(a, `/api/v1/reports/health?from=${T0}&to=${now}`, TOKEN)) as {
      hardwareDowntime: { gpus: number; byHost: { host: string; gpuHours: number }[] };
    };
    expect(report.hardwareDowntime.gpus).toBe(LIMITS.maxFlagRows + 2);
    expect(report.hardwareDowntime.byHost.find((b) => b.host === HOST)).toEqual({ host: HOST, gpuHours: 1 });
  });
});

describe("a GPU's health timeline", () => {
  it("lists the GPU's episodes however many newer ones other GPUs of its host have", async () => {
    const now = T0 + 5 * HOUR;
    const a = start(now);
    const harness = h as FlagHarness;
    episode(
      harness,
      { kind: "error", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: T0 + HOUR },
      T0 + 2 * HOUR,
    );
    // Another GPU of the same host timed out more times than one read holds.
    fleetEpisodes(harness, "error", T0 + 3 * HOUR, HOST);
    const timeline = (await tenantGet(a, `/api/v1/gpus/${UUID}/health?from=${T0}&to=${now}`, TOKEN)) as {
      flags: { kind: string; gpuUuid: string; startMs: number }[];
    };
    expect(timeline.flags.map((f) => [f.kind, f.gpuUuid, f.startMs])).toEqual([["error", UUID, T0 + HOUR]]);
  });
});
