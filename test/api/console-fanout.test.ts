// The console's routes through fan-out (http.peers): two collectors, each with half of a fleet
// (test/api/fleet-fixture.ts, hosts a–c and d–f). The front's open flags come merged in the
// problems-first order with summed totals, paging is refused by name, and the fleet cells hold
// both halves.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { FleetCells } from "../../collector/api/fleet-cells.js";
import { type ApiServer, createApiServer } from "../../collector/api/server.js";
import { compareProblems } from "../../collector/flags/order.js";
import type { Flag } from "../../collector/flags/types.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture } from "./fleet-fixture.js";

const fleets: FleetFixture[] = [];
const servers: ApiServer[] = [];
let front = "";

async function serve(fleet: FleetFixture, peers: string[]): Promise<string> {
  const server = createApiServer({
    backend: fleet.backend,
    listen: { host: "127.0.0.1", port: 0 },
    logger: silentLogger(),
    peers,
  });
  servers.push(server);
  return `http://127.0.0.1:${(await server.start()).port}`;
}

beforeAll(async () => {
  fleets.push(buildFleet({ firstHost: 0 }), buildFleet({ firstHost: 3 }));
  const peer = await serve(fleets[1] as FleetFixture, []);
  front = await serve(fleets[0] as FleetFixture, [peer]);
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const f of fleets) f.close();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const r = await fetch(`${front}${path}`);
  return { status: r.status, body: (await r.json()) as T };
}

test("merged open flags: problems first, totals summed over the collectors", async () => {
  const { status, body } = await get<{
    flags: Flag[];
    total: number;
    totalsByKind: Record<string, number>;
    next: number | null;
    truncated: boolean;
  }>("/api/v1/flags?limit=3");
  expect(status).toBe(200);
  expect(body.total).toBe(14);
  expect(body.totalsByKind).toMatchObject({ overheat: 2, idle: 6, "idle-held": 6 });
  expect(body.flags.map((f) => f.kind)).toEqual(["overheat", "overheat", "idle-held"]);
  expect(body.next).toBe(3);
  expect(body.truncated).toBe(true);
  const all = await get<{ flags: Flag[] }>("/api/v1/flags");
  for (let i = 1; i < all.body.flags.length; i++)
    expect(compareProblems(all.body.flags[i - 1] as Flag, all.body.flags[i] as Flag)).toBeLessThan(0);
});

test("paging a merged list is refused by name", async () => {
  const { status, body } = await get<{ parameter: string }>("/api/v1/flags?offset=5");
  expect(status).toBe(400);
  expect(body.parameter).toBe("offset");
});

test("fleet cells hold both collectors' GPUs", async () => {
  const { body } = await get<FleetCells & { peers: { missing: string[] } }>(
    "/api/v1/fleet/cells?layout=true",
  );
  expect(body.peers.missing).toEqual([]);
  expect(body.layout?.hosts.name).toEqual(["node-a", "node-b", "node-c", "node-d", "node-e", "node-f"]);
  expect(body.gpus.temp).toHaveLength(24);
  const hot = body.gpus.flags.filter((m) => m & (1 << body.kinds.indexOf("overheat"))).length;
  expect(hot).toBe(2);
});
