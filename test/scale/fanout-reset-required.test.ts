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
import { checkMessage } from "../../collector/ingest/check.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState } from "../../shared/proto.js";
import { eventPayload, eventTopic, xidEvent } from "../collector/health/events.js";
import {
  type CollectorParts,
  callAs,
  expectSame,
  feedFrames,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
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
const AT_XID = T0 + 30 * MIN;
const RECOVERED = T0 + 60 * MIN;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-reset-required-"));

/** host's frame `k`; GX's recovery action is "GPU reset" from the Xid until it recovered, else none. */
function frame(host: string, uuid: string, k: number): ValidFrame {
  const t = T0 + k * STEP;
  return {
    host,
    boot_id: `boot-${host}`,
    seq: k + 1,
    timestamp_ms: t,
    interval_ms: STEP,
    site: "lab",
    labels: {},
    gpus: [
      {
        index: 0,
        uuid,
        state: GpuState.GPU_STATE_OK,
        utilization_gpu_pct: 50,
        temperature_gpu_celsius: 50,
        power_draw_watts: 200,
        gpu_recovery_action: uuid === GX && t >= AT_XID && t < RECOVERED ? 1 : 0,
      },
    ],
  } as ValidFrame;
}

/** GX's Xid 79 on host-x, sent by host-x's agent: every collector receives it. */
function xid(parts: CollectorParts): void {
  const event = xidEvent(1, 79, { gpu_uuid: GX, time_ms: AT_XID, pid: null, process_name: "" });
  const checked = checkMessage(
    eventTopic("host-x"),
    eventPayload("host-x", [event], { bootId: "boot-host-x" }),
    { username: undefined, nowMs: NOW },
  );
  if (checked.rejections.length > 0) throw new Error(JSON.stringify(checked.rejections));
  const { fresh } = parts.store.writeEvents(checked.events, AT_XID);
  parts.flags.onEvents(fresh, AT_XID);
}

/** A share group member with the frames of `hosts`, every inventory, the Xid and acme's lease of GX. */
function collector(name: string, hosts: readonly ("host-x" | "host-y")[]): CollectorParts {
  const parts = openParts(join(dir, `${name}.db`), NOW, { sharedFrames: true });
  for (const [host, uuid] of [
    ["host-x", GX],
    ["host-y", GY],
  ] as const) {
    const inventory = {
      host,
      site: "lab",
      labels: {},
      timestamp_ms: T0,
      gpus: [{ index: 0, uuid, name: "NVIDIA H100 80GB HBM3" }],
    };
    parts.store.writeInventory(inventory, T0);
    parts.flags.onInventory(inventory, T0);
  }
  for (let k = 0; k < FRAMES; k++) {
    const ms = T0 + k * STEP;
    if (ms === AT_XID) xid(parts);
    const now = hosts.map((h) => frame(h, h === "host-x" ? GX : GY, k));
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

async function get<T = Record<string, unknown>>(c: ServedCollector, path: string): Promise<T> {
  const r = await callAs(c, path, TOKEN);
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}

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
