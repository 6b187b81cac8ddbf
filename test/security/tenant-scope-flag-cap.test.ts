// A tenant's flag list reads its own GPUs' and hosts' flags, not the fleet's newest 10,000
// (LIMITS.maxFlagRows) filtered afterwards: in a large fleet the newest 10,000 are a few hours of
// other tenants' idle flags, and the tenant's own older flags would be missing from its history
// with nothing saying so.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../collector/api/params.js";
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
