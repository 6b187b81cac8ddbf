// A tenant renewing its lease back to back (the renewal starting the millisecond the lease ends)
// holds the GPU without a break: its series has no blank bucket at the join, though the join
// falls inside a bucket (tenant-scope.ts joins a tenant's periods that touch). Another tenant's
// lease in between still blanks the buckets it touches.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { LeaseService } from "../../collector/leases/service.js";
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

const MIN = 60_000;
const JOIN = T0 + 30 * MIN + 7; // inside the bucket [T0 + 30 min, T0 + 31 min)
const NOW = T0 + 60 * MIN;
const TOKEN = "tenant-renewal-admin-token-0123456789";
const TENANTS: Record<string, Principal> = { gputel_acme: { role: "tenant", tenant: "acme", actor: "t" } };

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

function setup(renewedBy: string): FastifyInstance {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(
    inventory(HOST, T0, [{ index: 0, uuid: UUID, name: "NVIDIA H100 80GB HBM3" }]),
    T0,
  );
  for (let t = T0; t < NOW; t += INTERVAL) harness.frame(t, { utilization_gpu_pct: 90 });
  const now = () => NOW;
  const leases = new LeaseService(harness.store.leases, now);
  leases.create({ id: "l-1", device: UUID, tenant: "acme", start: T0, end: JOIN }, "test");
  leases.create({ id: "l-2", device: UUID, tenant: renewedBy, start: JOIN, end: JOIN + MIN }, "test");
  leases.create({ id: "l-3", device: UUID, tenant: "acme", start: JOIN + MIN }, "test");
  app = tenantApp(harness, leases, now, TOKEN, TENANTS);
  return app;
}

async function utilization(a: FastifyInstance): Promise<(number | null)[]> {
  const r = await a.inject({
    method: "GET",
    url: `/api/v1/gpus/${UUID}/series?metrics=utilization_gpu_pct&from=${T0 + 29 * MIN}&to=${T0 + 33 * MIN}&step=1m`,
    headers: { authorization: "Bearer gputel_acme" },
  });
  expect(r.statusCode).toBe(200);
  const body = JSON.parse(r.body) as {
    t: number[];
    metrics: { utilization_gpu_pct: { avg: (number | null)[] } };
  };
  expect(body.t).toEqual([29, 30, 31, 32].map((m) => T0 + m * MIN));
  return body.metrics.utilization_gpu_pct.avg;
}

describe("a tenant's lease renewed back to back", () => {
  it("leaves no blank bucket at the joins", async () => {
    expect(await utilization(setup("acme"))).toEqual([90, 90, 90, 90]);
  });

  it("another tenant's lease between blanks the buckets it touches", async () => {
    expect(await utilization(setup("globex"))).toEqual([90, null, null, 90]);
  });
});
