// The fleet health report across collectors of one share group (http.peers), on real parts: each
// collector a real SQLite Store, its flag engine and its HTTP API on loopback. host-x's frames reach
// the first collector, host-y's the second; the kernel-log events reach both (a plain
// subscription), except one Xid the first missed and one the second missed. A third collector
// holds every frame and every event. GX gets three Xid 79s and an Xid 48 (an RMA candidate, down
// until its reset), GY an Xid 13 (the workload's) and falls off the bus for a quarter of an hour.
// acme's lease of GX is on every collector, beta's of GY on the first only (GY's down episode is
// the second's). The first collector, with the second as its peer, and `gputel query report
// health` given both URLs must answer what the third answers: every Xid once (not each
// collector's counts added, not the larger of them), both GPUs' down time, beta's share of it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/query/cli.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import type { HealthReport } from "../../collector/reports/health-types.js";
import { runCaptured } from "../helpers/cli.js";
import {
  type CollectorParts,
  callAs,
  deadPort,
  expectSame,
  feedFrames,
  feedInventories,
  feedXid,
  getJson,
  oneGpuFrame,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

const TOKEN = "fanout-health-token-0123456789abcdef";
const MIN = 60_000;
const H = 60 * MIN;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T0 = NOW - 2 * H;
const STEP = 30_000;
const FRAMES = (2 * H) / STEP;
const GX = "GPU-11111111-2222-3333-4444-555555555555";
const GY = "GPU-22222222-2222-3333-4444-555555555555";
const INVENTORIES = [
  ["host-x", GX],
  ["host-y", GY],
] as const;
const AT_XID = T0 + 30 * MIN;
const RECOVERED = T0 + 60 * MIN;
const LOST_FROM = T0 + 80 * MIN;
const LOST_TO = T0 + 95 * MIN;
type Name = "first" | "second" | "whole";
/** The Xids, and which collectors received each. */
const XIDS = [
  { host: "host-y", uuid: GY, seq: 1, code: 13, timeMs: T0 + 10 * MIN, on: ["first", "second", "whole"] },
  { host: "host-x", uuid: GX, seq: 1, code: 79, timeMs: AT_XID, on: ["first", "second", "whole"] },
  { host: "host-x", uuid: GX, seq: 2, code: 79, timeMs: AT_XID + MIN, on: ["second", "whole"] },
  { host: "host-x", uuid: GX, seq: 3, code: 79, timeMs: AT_XID + 2 * MIN, on: ["first", "whole"] },
  { host: "host-x", uuid: GX, seq: 4, code: 48, timeMs: AT_XID + 3 * MIN, on: ["first", "second", "whole"] },
] as const;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-health-"));

function frameAt(host: string, uuid: string, t: number): ValidFrame {
  const resetting = host === "host-x" && t >= AT_XID && t < RECOVERED;
  const lost = host === "host-y" && t >= LOST_FROM && t < LOST_TO;
  return oneGpuFrame(host, uuid, t, { t0: T0, stepMs: STEP }, { resetting, lost });
}

/** A share group member with the frames of `hosts`, the Xids it received and its leases. */
function collector(name: Name, hosts: readonly ("host-x" | "host-y")[]): CollectorParts {
  const parts = openParts(join(dir, `${name}.db`), NOW, { sharedFrames: true });
  feedInventories(parts, INVENTORIES, T0);
  for (let k = 0; k < FRAMES; k++) {
    const ms = T0 + k * STEP;
    for (const x of XIDS)
      if (x.timeMs === ms && (x.on as readonly string[]).includes(name)) feedXid(parts, x, ms);
    const now = hosts.map((h) => frameAt(h, h === "host-x" ? GX : GY, ms));
    feedFrames(parts, now, now.length);
    parts.flags.tick(ms);
  }
  const leases = new LeaseService(parts.store.leases, () => NOW);
  leases.create({ id: "acme-x", device: GX, tenant: "acme", start: T0 }, "test");
  if (name !== "second")
    leases.create({ id: "beta-y", device: GY, tenant: "beta", start: T0 + 85 * MIN }, "test");
  return parts;
}

let first: ServedCollector;
let second: ServedCollector;
let whole: ServedCollector;
const started: ServedCollector[] = [];
const range = `from=${T0}&to=${NOW}`;
const get = <T = Record<string, unknown>>(c: ServedCollector, path: string) => getJson<T>(c, path, TOKEN);

describe("the fleet health report across collectors", () => {
  beforeAll(async () => {
    const serve = (parts: CollectorParts, peers: string[]) =>
      serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
    second = await serve(collector("second", ["host-y"]), []);
    started.push(second);
    first = await serve(collector("first", ["host-x"]), [second.url]);
    started.push(first);
    whole = await serve(collector("whole", ["host-x", "host-y"]), []);
    started.push(whole);
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, dir);
  });

  it("has every Xid and both GPUs' down time on the collector holding everything", async () => {
    const one = await get<HealthReport>(whole, `/api/v1/reports/health?${range}`);
    expect(one.xid.total).toBe(5);
    expect(one.xid.byCode.map((c) => [c.code, c.count])).toEqual([
      [79, 3],
      [13, 1],
      [48, 1],
    ]);
    expect(one.hardwareDowntime.gpus).toBe(2);
    expect(one.rmaCandidates.map((c) => [c.uuid, c.reasons])).toEqual([
      [GX, ["repeated hardware Xids (4)", "fell off the bus 3 times (Xid 79)"]],
    ]);
    expect(one.tenantDowntime.byTenant.map((t) => [t.tenant, t.downtimeMs])).toEqual([
      ["acme", RECOVERED - AT_XID],
      ["beta", LOST_TO - (T0 + 85 * MIN)],
    ]);
    // The first alone (as a peer asks it) has part of it: two of GX's three Xid 79s, no lost GPU.
    const own = (await (
      await callAs(first, `/api/v1/reports/health?${range}`, TOKEN, true)
    ).json()) as HealthReport;
    expect([own.xid.total, own.hardwareDowntime.gpus]).toEqual([4, 1]);
  });

  it("merges the peers' parts into the report one collector holding everything gives", async () => {
    const path = `/api/v1/reports/health?${range}`;
    const merged = await get<HealthReport & { peers: unknown }>(first, path);
    expectSame(merged, await get<HealthReport>(whole, path), "health");
    expect(merged.peers).toEqual({ asked: 1, missing: [], errors: [] });
  });

  it("answers the same CSV, saying which peers were asked", async () => {
    const path = `/api/v1/reports/health?${range}&format=csv`;
    const merged = await callAs(first, path, TOKEN);
    const one = await callAs(whole, path, TOKEN);
    expect(merged.status).toBe(200);
    expect(await merged.text()).toBe(await one.text());
    expect(merged.headers.get("x-gputel-peers-asked")).toBe("1");
    expect(merged.headers.get("x-gputel-peers-missing")).toBe("");
  });

  it("names a peer that does not answer in peers.missing", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const alone = await serveParts(whole, { nowMs: NOW, token: TOKEN, peers: [dead], leases: true });
    try {
      const path = `/api/v1/reports/health?${range}`;
      const r = await get<HealthReport & { peers: { asked: number; missing: string[] } }>(alone, path);
      expect(r.peers).toMatchObject({ asked: 1, missing: [dead] });
      expectSame(r, await get<HealthReport>(whole, path), "health");
    } finally {
      await alone.server.stop();
    }
  });

  it("gputel query report health --url a,b merges the collectors' parts", async () => {
    const args = ["report", "health", "--url", `${first.url},${second.url}`];
    const since = ["--since", String(T0), "--until", String(NOW)];
    const merged = await queryJson<HealthReport>([...args, ...since], TOKEN);
    expectSame(merged, await get<HealthReport>(whole, `/api/v1/reports/health?${range}`), "cli");
    const csv = await runCaptured(run, [...args, ...since, "--format", "csv"], { GPUTEL_API_TOKEN: TOKEN });
    expect(csv.code, csv.err).toBe(0);
    const one = await callAs(whole, `/api/v1/reports/health?${range}&format=csv`, TOKEN);
    expect(csv.out).toBe(await one.text());
  });

  it("refuses tenants the report and the part (403)", async () => {
    const acme = tenantToken(first, "acme", NOW);
    for (const path of [`/api/v1/reports/health?${range}`, `/api/v1/fanout/health-part?${range}`])
      expect({ path, status: (await callAs(first, path, acme)).status }).toEqual({ path, status: 403 });
  });
});
