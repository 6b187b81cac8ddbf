// A reset-required flag across collectors of one share group (http.peers), on real parts: each
// collector a real SQLite Store, its flag engine and its HTTP API on loopback. host-x's frames reach
// the first collector, host-y's the second; the kernel-log events reach both (a plain
// subscription), so both receive the Xid 79 of GX. Only the first sees GX's recovery action go to
// "GPU reset" and back to none half an hour later. A third collector holds every frame. The
// first collector, with the second as its peer, must answer the statement and the lease report
// (their counts of flags opened too: GX's xid and reset-required, once), the flags and GX's health
// timeline as the third does: GX down for the half hour, not from the Xid until now.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { AgentState } from "../../shared/proto.js";
import {
  type CollectorParts,
  callAs,
  expectSame,
  feedFrames,
  feedInventories,
  feedXid,
  getJson,
  oneGpuFrame,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
  withoutIds,
} from "./fanout-helpers.js";

const TOKEN = "fanout-reset-required-token-0123456789";
const MIN = 60_000;
const H = 60 * MIN;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const T0 = NOW - 2 * H;
const STEP = 30_000;
const FRAMES = (2 * H) / STEP;
const MONTH = new Date(T0).toISOString().slice(0, 7);
const GX = "GPU-11111111-2222-3333-4444-555555555555";
const GY = "GPU-22222222-2222-3333-4444-555555555555";
/** Each host's one GPU, as the inventories every collector receives list them. */
const INVENTORIES = [
  ["host-x", GX],
  ["host-y", GY],
] as const;
const AT_XID = T0 + 30 * MIN;
const RECOVERED = T0 + 60 * MIN;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-reset-required-"));

/** host's frame at `t`, with its one GPU `uuid`; `resetting`: its recovery action is "GPU reset" (else none). */
function frameAt(host: string, uuid: string, t: number, resetting: boolean): ValidFrame {
  return oneGpuFrame(host, uuid, t, { t0: T0, stepMs: STEP }, { resetting });
}

/** A share group member with the frames of `hosts`, every inventory, the Xid and acme's lease of GX. */
function collector(name: string, hosts: readonly ("host-x" | "host-y")[]): CollectorParts {
  const parts = openParts(join(dir, `${name}.db`), NOW, { sharedFrames: true });
  feedInventories(parts, INVENTORIES, T0);
  for (let k = 0; k < FRAMES; k++) {
    const ms = T0 + k * STEP;
    // GX's Xid 79 on host-x, sent by host-x's agent: every collector receives it.
    if (ms === AT_XID) feedXid(parts, { host: "host-x", uuid: GX, seq: 1, timeMs: AT_XID }, AT_XID);
    // GX's recovery action is "GPU reset" from the Xid until it recovered.
    const now = hosts.map((h) =>
      h === "host-x" ? frameAt(h, GX, ms, ms >= AT_XID && ms < RECOVERED) : frameAt(h, GY, ms, false),
    );
    feedFrames(parts, now, now.length);
    // The collector's timer: the xid flag closes after its quiet spell on every collector alike.
    parts.flags.tick(ms);
  }
  new LeaseService(parts.store.leases, () => NOW).create(
    { id: "acme-x", device: GX, tenant: "acme", start: T0 },
    "test",
  );
  return parts;
}

let first: ServedCollector;
let second: ServedCollector;
let whole: ServedCollector;
const started: ServedCollector[] = [];

const get = <T = Record<string, unknown>>(c: ServedCollector, path: string) => getJson<T>(c, path, TOKEN);

type Down = { fromMs: number; toMs: number; kinds: string[] };
type Statement = {
  lines: { lease: string; flags: number; downMs: number; down: Down[] | null }[];
  total: { flags: number };
};
type Flags = { flags: { kind: string; gpuUuid: string | null; startMs: number; endMs: number | null }[] };

describe("reset-required across collectors that share the frames", () => {
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

  it("bills GX's down time and counts its flags as one collector holding every frame does", async () => {
    const path = `/api/v1/reports/statement?tenant=acme&month=${MONTH}`;
    const merged = await get<Statement>(first, path);
    const one = await get<Statement>(whole, path);
    // Every figure, the count of flags opened (a line's `flags`, the parts' counts added) too:
    // GX's xid and reset-required are the holder's alone, so no collector counts them again.
    expectSame(merged, one, "statement");
    const line = merged.lines.find((l) => l.lease === "acme-x");
    expect(line?.down).toEqual([{ fromMs: AT_XID, toMs: RECOVERED, kinds: ["reset-required"] }]);
    expect(line?.downMs).toBe(RECOVERED - AT_XID);
    expect(line?.flags).toBe(2);
    expect(merged.total.flags).toBe(2);
  });

  it("counts GX's flags in the lease report as one collector holding every frame does", async () => {
    const path = `/api/v1/reports/leases?from=${T0}&to=${NOW}&by=lease`;
    const merged = await get<{ groups: { flags: number }[] }>(first, path);
    const one = await get<{ groups: { flags: number }[] }>(whole, path);
    expectSame(merged, one, "lease report");
    expect(merged.groups.map((g) => g.flags)).toEqual([2]);
  });

  it("closes the merged reset-required flag when GX recovered, and leaves none open", async () => {
    const path = `/api/v1/flags?state=all&gpu=${GX}`;
    const merged = await get<Flags>(first, path);
    const one = await get<Flags>(whole, path);
    expectSame(merged.flags, one.flags, "flags");
    const reset = merged.flags.filter((f) => f.kind === "reset-required");
    expect(reset.map((f) => [f.startMs, f.endMs])).toEqual([[AT_XID, RECOVERED]]);
    const open = await get<Flags>(first, "/api/v1/flags?state=open");
    expect(open.flags.filter((f) => f.kind === "reset-required")).toEqual([]);
  });

  it("merges GX's health timeline as the whole collector's", async () => {
    const path = `/api/v1/gpus/${GX}/health?from=${T0}&to=${NOW}`;
    expectSame(await get(first, path), await get(whole, path), "health");
  });

  it("raises no reset-required nor xid on the collector without GX's frames", async () => {
    const own = await get<Flags>(second, `/api/v1/flags?state=all&kind=reset-required`);
    expect(own.flags).toEqual([]);
    // Nor the xid flag: the events reach every member, but only the holder raises GX's flags.
    const xids = await get<Flags>(second, `/api/v1/flags?state=all&kind=xid`);
    expect(xids.flags).toEqual([]);
  });
});

// Xids that arrive while no member of the share group has a host's frames in hand. Statuses reach
// every collector too (a plain subscription). host-x goes offline (every member's frames-here
// mark goes with it) and comes back with an Xid 79 from its spool, processed before its first
// frame, which then reaches the first collector again; its recovery action says "GPU reset" until
// GX recovers. host-y's frames stop while its agent still sends events, and an Xid 79 of GY comes
// gpu_move_hold later. host-z is new: its agent's first start sends an Xid 79 from its kernel
// log before its first frame, which reaches the first collector. Here the third collector is not
// in a share group. The merged statement, flags and the GPUs' health timelines must be the
// third's: until 2026-12-07 none of these Xids was flagged anywhere.

/** host-x: offline at OFF, back at BACK with the Xid it logged at XID_X, GX recovered at RECOVERED_X. */
const OFF = T0 + 20 * MIN;
const XID_X = T0 + 25 * MIN;
const BACK = T0 + 30 * MIN;
const RECOVERED_X = T0 + 50 * MIN;
/** host-y: its frames stop at STOP_Y (its agent still sends events); GY's Xid at XID_Y. */
const STOP_Y = T0 + 60 * MIN;
const XID_Y = STOP_Y + 20 * MIN;
/** host-z: new, its agent starts at Z_START with GZ's Xid of Z_XID in its kernel log; GZ recovered at RECOVERED_Z. */
const GZ = "GPU-33333333-2222-3333-4444-555555555555";
const Z_START = T0 + 90 * MIN;
const Z_XID = Z_START - 5 * MIN;
const RECOVERED_Z = Z_START + 10 * MIN;
const unheldDir = mkdtempSync(join(tmpdir(), "gputel-fanout-xid-unheld-"));

type Host = "host-x" | "host-y" | "host-z";

function sends(host: Host, t: number): boolean {
  if (host === "host-z") return t >= Z_START;
  return host === "host-x" ? t < OFF || t >= BACK : t < STOP_Y;
}

/** host's frame at `t`: GX's and GZ's recovery action is "GPU reset" from their return or start until they recovered. */
function unheldFrame(host: Host, t: number): ValidFrame {
  if (host === "host-x") return frameAt(host, GX, t, t >= BACK && t < RECOVERED_X);
  if (host === "host-z") return frameAt(host, GZ, t, t < RECOVERED_Z);
  return frameAt(host, GY, t, false);
}

/**
 * A collector with the frames of `hosts`, every inventory, status and Xid, and acme's leases of GX,
 * GY and GZ; `shared`: a member of the share group.
 */
function unheldCollector(name: string, hosts: readonly Host[], shared: boolean): CollectorParts {
  const parts = openParts(join(unheldDir, `${name}.db`), NOW, { sharedFrames: shared });
  feedInventories(parts, INVENTORIES, T0);
  for (let k = 0; k < FRAMES; k++) {
    const ms = T0 + k * STEP;
    if (ms === OFF) {
      const offline = {
        host: "host-x",
        state: AgentState.AGENT_STATE_OFFLINE,
        timestamp_ms: OFF,
        reason: "",
      };
      parts.store.writeStatus(offline, OFF);
      parts.flags.onStatus(offline, OFF);
    }
    if (ms === BACK) {
      const online = {
        host: "host-x",
        state: AgentState.AGENT_STATE_ONLINE,
        timestamp_ms: BACK,
        interval_ms: STEP,
      };
      parts.store.writeStatus(online, BACK);
      parts.flags.onStatus(online, BACK);
      // The agent's spool: the Xid it logged while away, processed before its first frame.
      feedXid(parts, { host: "host-x", uuid: GX, seq: 1, timeMs: XID_X }, BACK);
    }
    if (ms === XID_Y) feedXid(parts, { host: "host-y", uuid: GY, seq: 2, timeMs: XID_Y }, XID_Y);
    if (ms === Z_START) {
      feedInventories(parts, [["host-z", GZ]], Z_START);
      // The new agent's kernel log from the boot, processed before its first frame.
      feedXid(parts, { host: "host-z", uuid: GZ, seq: 3, timeMs: Z_XID }, Z_START);
    }
    const now = hosts.filter((h) => sends(h, ms)).map((h) => unheldFrame(h, ms));
    if (now.length > 0) feedFrames(parts, now, now.length);
    parts.flags.tick(ms);
  }
  const leases = new LeaseService(parts.store.leases, () => NOW);
  leases.create({ id: "acme-x", device: GX, tenant: "acme", start: T0 }, "test");
  leases.create({ id: "acme-y", device: GY, tenant: "acme", start: T0 }, "test");
  leases.create({ id: "acme-z", device: GZ, tenant: "acme", start: T0 }, "test");
  return parts;
}

describe("Xids no member of a share group holds the frames for", () => {
  let first: ServedCollector;
  let second: ServedCollector;
  let whole: ServedCollector;
  const started: ServedCollector[] = [];

  beforeAll(async () => {
    const serve = (parts: CollectorParts, peers: string[]) =>
      serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
    second = await serve(unheldCollector("second", ["host-y"], true), []);
    started.push(second);
    first = await serve(unheldCollector("first", ["host-x", "host-z"], true), [second.url]);
    started.push(first);
    whole = await serve(unheldCollector("whole", ["host-x", "host-y", "host-z"], false), []);
    started.push(whole);
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, unheldDir);
  });

  it("flags each Xid once, as one collector holding every frame does", async () => {
    const path = "/api/v1/flags?state=all";
    const merged = await get<Flags>(first, path);
    expectSame(withoutIds(merged.flags), withoutIds((await get<Flags>(whole, path)).flags), "flags");
    const raised = (uuid: string) =>
      merged.flags.filter((f) => f.gpuUuid === uuid && f.kind !== "stale" && f.kind !== "offline");
    // GX's spooled Xid: raised by the member that held host-x's frames when it went offline (they
    // came back to it), and closed on the recovery it then saw.
    expect(
      raised(GX)
        .map((f) => [f.kind, f.startMs, f.endMs])
        .sort(),
    ).toEqual(
      [
        ["reset-required", XID_X, RECOVERED_X],
        ["xid", XID_X, BACK],
      ].sort(),
    );
    // GY's Xid after its frames stopped: raised by the member that last had them; open.
    expect(raised(GY).find((f) => f.kind === "reset-required")).toMatchObject({
      startMs: XID_Y,
      endMs: null,
    });
    // Each member's own flags (asked as a peer asks: no fan-out).
    const own = async (c: ServedCollector, uuid: string) => {
      const r = await callAs(c, `/api/v1/flags?state=all&gpu=${uuid}`, TOKEN, true);
      const { flags } = (await r.json()) as Flags;
      return flags.filter((f) => f.kind === "xid" || f.kind === "reset-required").map((f) => f.kind);
    };
    // Exactly one member raised each: the other adds nothing for a lease to count again.
    expect((await own(first, GX)).sort()).toEqual(["reset-required", "xid"]);
    expect(await own(second, GX)).toEqual([]);
    expect((await own(second, GY)).sort()).toEqual(["reset-required", "xid"]);
    expect(await own(first, GY)).toEqual([]);
    // GZ's Xid from before host-z's first frame: raised by the member that frame reached.
    expect(
      raised(GZ)
        .filter((f) => f.kind === "reset-required")
        .map((f) => [f.startMs, f.endMs]),
    ).toEqual([[Z_XID, RECOVERED_Z]]);
    expect((await own(first, GZ)).sort()).toEqual(["reset-required", "xid"]);
    expect(await own(second, GZ)).toEqual([]);
  });

  it("bills and counts the leases as one collector holding every frame does", async () => {
    const path = `/api/v1/reports/statement?tenant=acme&month=${MONTH}`;
    const merged = await get<Statement>(first, path);
    expectSame(merged, await get<Statement>(whole, path), "statement");
    const x = merged.lines.find((l) => l.lease === "acme-x");
    expect(x?.down?.some((d) => d.kinds.includes("reset-required") && d.toMs === RECOVERED_X)).toBe(true);
  });

  it("merges each GPU's health timeline as the whole collector's", async () => {
    for (const uuid of [GX, GY, GZ]) {
      const path = `/api/v1/gpus/${uuid}/health?from=${T0}&to=${NOW}`;
      expectSame(withoutIds(await get(first, path)), withoutIds(await get(whole, path)), `health ${uuid}`);
    }
  });
});
