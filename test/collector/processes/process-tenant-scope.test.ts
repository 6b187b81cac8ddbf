// A tenant token on the process routes when its lease ended while a session went on: the session
// is clipped to the lease at both ends (list and report), and a GPU it never leased answers 404
// on the process list as on every other route, not an empty list.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { newToken } from "../../../collector/api/tokens.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { startTestCollector, type TestCollector } from "../../security/collector-helpers.js";
import { frameFor } from "../leases/store-helpers.js";

const TOKEN = "process-tenant-admin-token-0123456789";
const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-66666666-2222-3333-4444-555555555555";
const H = 3_600_000;
const NOW = Date.now();
const HOST = "host-a";
const FROM = new Date(NOW - 5 * H).toISOString();
// acme held G2 for [NOW - 3 h, NOW - 2.5 h); bob's session on it ran from NOW - 4 h to NOW - 2 h.
const LEASE_START = NOW - 3 * H;
const LEASE_END = NOW - 2.5 * H;

let c: TestCollector;
let acme = "";

function proc(gpu: string, pid: number, user: string): IProcessRecord {
  return { gpu_uuid: gpu, pid, start_ms: NOW - 4 * H, name: "python3", used_memory_mib: 40_000, user };
}

function writeSet(seq: number, at: number, list: IProcessRecord[]): void {
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host: HOST,
    boot_id: "b1",
    seq,
    timestamp_ms: at,
    processes: list,
  }).finish();
  const checked = checkMessage(topicFor(HOST, "processes"), payload, { username: undefined, nowMs: NOW });
  if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
  c.running.store.writeProcesses(checked.processes, at);
}

async function get(path: string, token = acme) {
  const response = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function lease(body: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${c.url}/api/v1/leases`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(201);
}

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  c.running.store.writeFrames([frameFor(HOST, [G1, G2], NOW - 20 * H)], NOW);
  writeSet(1, NOW - 4 * H, [proc(G1, 100, "alice"), proc(G2, 200, "bob")]);
  writeSet(2, NOW - 2 * H, [proc(G1, 100, "alice"), proc(G2, 200, "bob")]);
  writeSet(3, NOW - 2 * H + 60_000, [proc(G1, 100, "alice")]);
  const t = newToken();
  c.running.store.tokens.insert(t.id, "tenant:acme", t.digest, "", NOW);
  acme = t.token;
  const iso = (ms: number) => new Date(ms).toISOString();
  await lease({ id: "acme-1", device: G2, tenant: "acme", start: iso(LEASE_START), end: iso(LEASE_END) });
  await lease({ id: "globex-1", device: G1, tenant: "globex", start: iso(NOW - 5 * H) });
});
afterAll(async () => {
  await c?.close();
});

describe("a tenant's process sessions", () => {
  test("fill the limit with its own sessions, not the fleet's newest that it may not see", async () => {
    // globex's session on G1 was seen last: a limit over the fleet's rows would leave acme none.
    for (const path of [
      `/api/v1/processes?from=${FROM}&limit=1`,
      `/api/v1/gpus/${G2}/processes?from=${FROM}&limit=1`,
    ]) {
      const { status, body } = await get(path);
      expect(status, path).toBe(200);
      expect(
        (body.processes as { pid: number }[]).map((r) => r.pid),
        path,
      ).toEqual([200]);
    }
  });

  test("are clipped to its lease at both ends", async () => {
    const history = await get(`/api/v1/processes?from=${FROM}`);
    const rows = history.body.processes as { pid: number; firstSeenMs: number; lastSeenMs: number }[];
    expect(rows.map((r) => r.pid)).toEqual([200]);
    expect(rows[0]?.firstSeenMs).toBe(LEASE_START);
    expect(rows[0]?.lastSeenMs).toBeLessThan(LEASE_END);
    const report = await get(`/api/v1/reports/processes?from=${FROM}`);
    const held = (report.body.rows as { key: string; gpuHours: number }[]).map((r) => [r.key, r.gpuHours]);
    expect(held).toEqual([["bob", 0.5]]);
  });

  test("another tenant's GPU answers as an unknown GPU, message and all", async () => {
    const paths = [
      (ref: string) => `/api/v1/processes?gpu=${ref}&from=${FROM}`,
      (ref: string) => `/api/v1/gpus/${ref}/processes?from=${FROM}`,
    ];
    for (const path of paths) {
      const unknown = await get(path("GPU-ffffffff"));
      expect(unknown.status).toBe(404);
      for (const ref of [G1, `${HOST}:0`]) {
        const r = await get(path(ref));
        const said = (body: Record<string, unknown>) => String(body.message).replace(/"[^"]*"/, "ID");
        expect({ ref, status: r.status, error: r.body.error, message: said(r.body) }).toEqual({
          ref,
          status: 404,
          error: unknown.body.error,
          message: said(unknown.body),
        });
      }
      expect((await get(path(G2))).status).toBe(200);
    }
  });
});
