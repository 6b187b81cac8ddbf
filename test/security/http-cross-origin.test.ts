// CSRF without a token: on a loopback bind with no http.token, every local request is the admin.
// A page on another origin in the operator's browser can still send a "simple" POST to
// http://127.0.0.1:PORT (no preflight; its Host header is the loopback name, so the Host check
// passes): it cannot read the answer, but it must not change anything. Browsers name the page's
// origin in the Origin header of every such request; the real collector must refuse a
// state-changing request from another origin, and keep answering its own dashboard and local tools.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { frameFor } from "../collector/leases/store-helpers.js";
import { startTestCollector, type TestCollector } from "./collector-helpers.js";
import { closeRawAgent, rawGet } from "./raw-http.js";

/** One GPU per lease, so that no lease left active by a test is in another's way. */
const GPUS = Array.from({ length: 8 }, (_, i) => `GPU-11111111-2222-3333-4444-55555555555${i}`);
const H = 3_600_000;
const NOW = Date.now();

let c: TestCollector;
let leases = 0;

async function createLease(id: string): Promise<void> {
  const response = await fetch(`${c.url}/api/v1/leases`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      id,
      device: GPUS[leases++],
      tenant: "acme",
      start: new Date(NOW - H).toISOString(),
      end: new Date(NOW + 24 * H).toISOString(),
    }),
  });
  expect(response.status).toBe(201);
}

async function leaseState(id: string): Promise<unknown> {
  const response = await fetch(`${c.url}/api/v1/leases/${id}`);
  return ((await response.json()) as { state: unknown }).state;
}

beforeAll(async () => {
  c = await startTestCollector();
  c.running.store.writeFrames([frameFor("host-a", GPUS, NOW - 2 * H)], NOW);
});
afterAll(async () => {
  await c?.close();
  closeRawAgent();
});

describe("no token, loopback bind: a state-changing request from another origin", () => {
  test.each(["https://attacker.example", "http://127.0.0.1.attacker.example", "null"])(
    "Origin %s cannot end a lease",
    async (origin) => {
      const id = `csrf-${origin.replace(/[^a-z0-9]/g, "")}`;
      await createLease(id);
      const answer = await rawGet(
        c.http,
        `/api/v1/leases/${id}/end`,
        { host: `127.0.0.1:${c.http.port}`, origin },
        "POST",
      );
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "cross_origin" });
      expect(await leaseState(id)).toBe("active");
    },
  );

  test("a page on another port of this machine is another origin too", async () => {
    await createLease("csrf-port");
    const answer = await rawGet(
      c.http,
      "/api/v1/leases/csrf-port/end",
      { host: `127.0.0.1:${c.http.port}`, origin: `http://127.0.0.1:${c.http.port + 1}` },
      "POST",
    );
    expect(answer.status).toBe(403);
    expect(await leaseState("csrf-port")).toBe("active");
  });

  test("the same origin (the dashboard's own page) and a local tool without Origin still may", async () => {
    await createLease("same-origin");
    const same = await rawGet(
      c.http,
      "/api/v1/leases/same-origin/end",
      { host: `127.0.0.1:${c.http.port}`, origin: `http://127.0.0.1:${c.http.port}` },
      "POST",
    );
    expect(same.status).toBe(200);
    await createLease("local-tool");
    const tool = await rawGet(c.http, "/api/v1/leases/local-tool/end", {}, "POST");
    expect(tool.status).toBe(200);
  });

  test("reads from another origin are answered as before (the browser keeps them from the page)", async () => {
    const answer = await rawGet(c.http, "/api/v1/summary", {
      host: `127.0.0.1:${c.http.port}`,
      origin: "https://attacker.example",
    });
    expect(answer.status).toBe(200);
  });
});
