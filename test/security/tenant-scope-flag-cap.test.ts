// A tenant's flag list reads its own GPUs' and hosts' flags, not the fleet's newest 10,000
// (LIMITS.maxFlagRows) filtered afterwards: in a large fleet the newest 10,000 are a few hours of
// other tenants' idle flags, and the tenant's own older flags would be missing from its history
// with nothing saying so.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../collector/api/params.js";
import type { FlagKind } from "../../collector/flags/types.js";
import { LeaseService } from "../../collector/leases/service.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  inventory,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import { ACME, GPU, HOUR, type ShownFlag, tenantApp, tenantGet } from "./tenant-app.js";

const TOKEN = "tenant-flag-cap-admin-token-0123456789";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

const base = { severity: "info" as const, site: "", labels: {}, values: {} };

describe("a tenant's flag list in a fleet with more flags than one read holds", () => {
  it("lists the tenant's own older flags, however many newer ones the fleet has", async () => {
    h = flagHarness();
    h.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
    const flags = h.store.flagStore();
    // acme's GPU was idle an hour after its lease began; then the rest of the fleet raised more
    // flags than one read holds, all newer.
    const own = flags.insert(
      { ...base, kind: "idle", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: T0 + HOUR, reason: "idle" },
      T0 + HOUR,
    );
    flags.close({ ...own, endMs: T0 + 2 * HOUR });
    flags.transaction(() => {
      for (let i = 0; i <= LIMITS.maxFlagRows; i++) {
        const at = T0 + 3 * HOUR + i;
        const other = flags.insert(
          {
            ...base,
            kind: "idle",
            host: `node-${2 + (i % 500)}`,
            gpuUuid: `GPU-other-${i}`,
            gpuIndex: i % 8,
            startMs: at,
            reason: "idle",
          },
          at,
        );
        flags.close({ ...other, endMs: at + 1 });
      }
    });
    const now = T0 + 4 * HOUR;
    const leases = new LeaseService(h.store.leases, () => now);
    leases.create({ id: "acme-1", device: UUID, tenant: "acme", start: T0 }, "test");
    app = tenantApp(h, leases, () => now, TOKEN, ACME);

    const list = (await tenantGet(app, `/api/v1/flags?state=all&from=${T0}&to=${now}`)) as unknown as {
      flags: ShownFlag[];
      truncated: boolean;
    };
    expect(list.flags.map((f) => [f.kind, f.gpuUuid, f.startMs, f.endMs])).toEqual([
      ["idle", UUID, T0 + HOUR, T0 + 2 * HOUR],
    ]);
    expect(list.truncated).toBe(false);
  });

  it("says its history is cut when the tenant's own flags are more than one read holds", async () => {
    h = flagHarness();
    h.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
    const flags = h.store.flagStore();
    // acme's own GPU was idle more times than one read holds (a large tenant's month).
    flags.transaction(() => {
      for (let i = 0; i <= LIMITS.maxFlagRows; i++) {
        const at = T0 + HOUR + i * 10;
        const own = flags.insert(
          { ...base, kind: "idle", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: at, reason: "idle" },
          at,
        );
        flags.close({ ...own, endMs: at + 5 });
      }
    });
    const now = T0 + 4 * HOUR;
    const leases = new LeaseService(h.store.leases, () => now);
    leases.create({ id: "acme-1", device: UUID, tenant: "acme", start: T0 }, "test");
    app = tenantApp(h, leases, () => now, TOKEN, ACME);

    // The last page of what was read: the oldest flag is not in it, and the answer says so.
    const url = `/api/v1/flags?state=all&from=${T0}&to=${now}&limit=100&offset=${LIMITS.maxFlagRows - 50}`;
    const last = (await tenantGet(app, url)) as unknown as {
      flags: ShownFlag[];
      truncated: boolean;
      next: number | null;
      total?: number;
    };
    expect(last.flags).toHaveLength(50);
    expect(last.flags.at(-1)?.startMs).toBe(T0 + HOUR + 10);
    expect(last.truncated).toBe(true);
    expect(last.next).toBeNull();
    expect(last.total).toBeUndefined();
  });

  it("counts the tenant's own open flag in its summary, however many older open flags the fleet has", async () => {
    h = flagHarness();
    h.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
    const flags = h.store.flagStore();
    // Open flags are read oldest first: the fleet's 10,001 older ones filled the read before.
    flags.transaction(() => {
      for (let i = 0; i <= LIMITS.maxFlagRows; i++)
        flags.insert(
          {
            ...base,
            kind: "idle",
            host: `node-${2 + (i % 500)}`,
            gpuUuid: `GPU-other-${i}`,
            gpuIndex: i % 8,
            startMs: T0 + i,
            reason: "idle",
          },
          T0 + i,
        );
    });
    flags.insert(
      { ...base, kind: "idle", host: HOST, gpuUuid: UUID, gpuIndex: 0, startMs: T0 + HOUR, reason: "idle" },
      T0 + HOUR,
    );
    const now = T0 + 2 * HOUR;
    const leases = new LeaseService(h.store.leases, () => now);
    leases.create({ id: "acme-1", device: UUID, tenant: "acme", start: T0 }, "test");
    app = tenantApp(h, leases, () => now, TOKEN, ACME);

    const summary = (await tenantGet(app, "/api/v1/summary")) as { flags: { open: number; byKind: object } };
    expect(summary.flags).toMatchObject({ open: 1, byKind: { idle: 1 } });
  });
});

/** One open flag of each kind a GPU can have at once, per GPU. */
const GPU_KINDS: readonly FlagKind[] = [
  "gpu-claim-conflict",
  "overheat",
  "reset-required",
  "lost",
  "xid",
  "error",
  "nvlink-degraded",
  "pcie-degraded",
  "throttled",
  "idle-held",
  "idle",
];
/** Enough GPUs that acme's open flags are more than one read holds (910 GPUs, 10,010 flags). */
const ACME_GPUS = Math.ceil((LIMITS.maxFlagRows + 1) / GPU_KINDS.length);
const acmeUuid = (n: number) => `GPU-acme-${n}`;

/**
 * acme leases ACME_GPUS GPUs (8 a host) from T0, and since T0 + 1 h each has one open flag of
 * every kind of GPU_KINDS: a large tenant in a bad hour, more open flags than one read holds.
 */
function bigTenant(now: number): { harness: FlagHarness; leases: LeaseService } {
  const harness = flagHarness();
  for (let first = 0; first < ACME_GPUS; first += 8) {
    const count = Math.min(8, ACME_GPUS - first);
    const gpus = Array.from({ length: count }, (_, i) => ({
      index: i,
      uuid: acmeUuid(first + i),
      name: "NVIDIA H100 80GB HBM3",
    }));
    harness.store.writeInventory(inventory(`acme-${first / 8}`, T0, gpus), T0);
  }
  const leases = new LeaseService(harness.store.leases, () => now);
  leases.importAll(
    Array.from({ length: ACME_GPUS }, (_, n) => ({
      line: n + 1,
      fields: { id: `acme-${n}`, device: acmeUuid(n), tenant: "acme", start: T0 },
    })),
    "test",
  );
  const flags = harness.store.flagStore();
  flags.transaction(() => {
    for (let n = 0; n < ACME_GPUS; n++)
      for (const kind of GPU_KINDS)
        flags.insert(
          {
            ...base,
            kind,
            host: `acme-${Math.floor(n / 8)}`,
            gpuUuid: acmeUuid(n),
            gpuIndex: n % 8,
            startMs: T0 + HOUR,
            reason: kind,
          },
          T0 + HOUR,
        );
  });
  return { harness, leases };
}

describe("a tenant with more open flags than one read holds", () => {
  const now = T0 + 2 * HOUR;
  const open = ACME_GPUS * GPU_KINDS.length;

  it("counts every open flag of its GPUs in its summary", async () => {
    const big = bigTenant(now);
    h = big.harness;
    app = tenantApp(h, big.leases, () => now, TOKEN, ACME);
    const summary = (await tenantGet(app, "/api/v1/summary")) as {
      flags: { open: number; byKind: Record<string, number>; gpusFlagged: number };
    };
    expect(summary.flags.open).toBe(open);
    expect(summary.flags.byKind).toEqual(Object.fromEntries(GPU_KINDS.map((k) => [k, ACME_GPUS])));
    expect(summary.flags.gpusFlagged).toBe(ACME_GPUS);
  });

  it("shows every open flag on its GPU views", async () => {
    const big = bigTenant(now);
    h = big.harness;
    app = tenantApp(h, big.leases, () => now, TOKEN, ACME);
    const list = (await tenantGet(app, "/api/v1/gpus")) as {
      gpus: { uuid: string; flags: { kind: string }[] }[];
    };
    expect(list.gpus).toHaveLength(ACME_GPUS);
    const short = list.gpus.filter((g) => g.flags.length !== GPU_KINDS.length).map((g) => g.uuid);
    expect(short).toEqual([]);
    const one = (await tenantGet(app, `/api/v1/gpus/${acmeUuid(ACME_GPUS - 1)}`)) as {
      flags: { kind: string }[];
    };
    expect(one.flags.map((f) => f.kind).sort()).toEqual([...GPU_KINDS].sort());
  });

  it("counts and pages its open flag list to the end", async () => {
    const big = bigTenant(now);
    h = big.harness;
    app = tenantApp(h, big.leases, () => now, TOKEN, ACME);
    const last = (await tenantGet(
      app,
      `/api/v1/flags?state=open&limit=100&offset=${open - 10}`,
    )) as unknown as { flags: ShownFlag[]; truncated: boolean; next: number | null; total?: number };
    expect(last.flags).toHaveLength(10);
    expect(last.total).toBe(open);
    expect(last.truncated).toBe(false);
    expect(last.next).toBeNull();
  });
});
