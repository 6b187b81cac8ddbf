// Leases on /metrics: a real collector with leases made through /api/v1/leases exports one
// gputel_gpu_lease_info series per GPU leased now (not an ended or a future lease), the lease's
// price and committed availability; MIG leases have their own family so a join on uuid finds at
// most one tenant per GPU. promtool accepts the text.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { MetricsSnapshot } from "../../collector/contract/api-contract.js";
import { renderMetrics } from "../../collector/exposition/prometheus.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { checkMetrics, PROMTOOL } from "../helpers/promtool.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const havePromtool = existsSync(PROMTOOL);
const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-66666666-2222-3333-4444-555555555555";
const H = 3_600_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

let c: TestCollector;
let text = "";

async function post(path: string, body: unknown): Promise<number> {
  const r = await fetch(`${c.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await r.text();
  return r.status;
}

beforeAll(async () => {
  c = await startTestCollector();
  c.running.store.writeFrames([frameFor("host-a", [G1, G2], NOW - 20 * H)], NOW);
  const created = [
    await post("/api/v1/leases", {
      id: "acme-1",
      device: G1,
      tenant: "acme",
      start: iso(NOW - 10 * H),
      end: iso(NOW - 5 * H),
    }),
    await post("/api/v1/leases", {
      id: "globex-1",
      device: G1,
      tenant: "globex",
      start: iso(NOW - 5 * H),
      pricePerGpuHour: 2.5,
      currency: "EUR",
      committedAvailabilityPct: 99.5,
    }),
    await post("/api/v1/leases", { id: "initech-1", device: G2, tenant: "initech", start: iso(NOW + H) }),
  ];
  expect(created).toEqual([201, 201, 201]);
  const r = await fetch(`${c.url}/metrics`);
  expect(r.status).toBe(200);
  text = await r.text();
});
afterAll(async () => {
  await c?.close();
});

const family = (name: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`));

describe("leases on /metrics", () => {
  test("only the lease in force now, placed on its host and index", () => {
    expect(family("gputel_gpu_lease_info")).toEqual([
      `gputel_gpu_lease_info{host="host-a",gpu="0",uuid="${G1}",tenant="globex",lease="globex-1"} 1`,
    ]);
    expect(family("gputel_mig_device_lease_info")).toEqual([]);
  });

  test("the lease's price and committed availability", () => {
    expect(family("gputel_lease_price_per_gpu_hour")).toEqual([
      'gputel_lease_price_per_gpu_hour{tenant="globex",lease="globex-1",currency="EUR"} 2.5',
    ]);
    expect(family("gputel_lease_committed_availability_ratio")).toEqual([
      'gputel_lease_committed_availability_ratio{tenant="globex",lease="globex-1"} 0.995',
    ]);
  });

  test.skipIf(!havePromtool && process.env.GPUTEL_REQUIRE_PROMETHEUS !== "1")(
    "promtool check metrics accepts it",
    async () => {
      const { out } = await checkMetrics(text);
      expect(out).toBe("");
    },
  );
});

test("a MIG lease is its own family, beside the whole-GPU lease of another GPU", () => {
  const snap: MetricsSnapshot = {
    gpus: [],
    hosts: [],
    openFlags: [],
    ingest: null,
    databaseBytes: 0,
    newestSampleMs: null,
    leases: [
      {
        id: "a",
        tenant: "acme",
        device: G1,
        gpu: G1,
        priceMicros: null,
        currency: null,
        availabilityMilli: null,
      },
      {
        id: "m",
        tenant: "globex",
        device: "MIG-aaaa",
        gpu: G2,
        priceMicros: 1_250_000,
        currency: "USD",
        availabilityMilli: null,
      },
    ],
  };
  const body = renderMetrics(snap, NOW);
  expect(body).toContain(`gputel_gpu_lease_info{host="",gpu="",uuid="${G1}",tenant="acme",lease="a"} 1`);
  expect(body).toContain(
    `gputel_mig_device_lease_info{host="",gpu="",uuid="${G2}",mig_device="MIG-aaaa",tenant="globex",lease="m"} 1`,
  );
  expect(body).toContain('gputel_lease_price_per_gpu_hour{tenant="globex",lease="m",currency="USD"} 1.25');
  expect(body).not.toContain("gputel_lease_committed_availability_ratio");
});
