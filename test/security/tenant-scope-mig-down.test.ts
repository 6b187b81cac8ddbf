// A MIG device lease's down time is its GPU's (reports/down-time.ts, lease-lines.ts): the GPU lost
// or erroring takes every MIG device on it down. Its tenant therefore sees the GPU's down flags
// (the GPU kinds of DOWN_KINDS) clipped to its stays, under the GPU's UUID that its statement
// lines name, and adding up to its statement's down time; nothing else of the GPU (a workload's
// Xid, which is another MIG tenant's business, the GPU itself, its series; its health timeline
// shows the down flags alone: tenant-scope-mig-health.test.ts), and an Xid that counts down shows
// without its sentence and values (they name the process it hit). A whole-GPU lease right beside
// a MIG lease of the GPU is one stay for the GPU's down flags: an entry runs across the join, its
// details withheld whole when it reaches the MIG period, the GPU's timeline covers both leases
// (the MIG one for its down time alone), and the GPU's own view (gpus/:id) shows an open flag as
// the flag list does, never the sentence of an Xid written before the whole-GPU lease.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { MIG_NOTE_WITHHELD, MIG_WITHHELD_REASON, WITHHELD_REASON } from "../../collector/api/tenant-scope.js";
import type { GpuFlagRef } from "../../collector/contract/api-contract.js";
import { LeaseService } from "../../collector/leases/service.js";
import { GpuState } from "../../shared/proto.js";
import { xidEvent } from "../collector/health/events.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  inventory,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import {
  ACME,
  type DetailedFlag,
  MIG,
  MIG_GPU,
  statementDownMs,
  tenantApp,
  tenantGet,
  timelineOf,
} from "./tenant-app.js";

const TOKEN = "tenant-mig-down-admin-token-0123456789";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

/** The GPU (in MIG mode) reports every 100 s up to `untilMs`, lost over [lostFrom, lostTo). */
function start(untilMs: number, lostFrom: number, lostTo: number): FlagHarness {
  h = flagHarness();
  const harness = h;
  harness.store.writeInventory(inventory(HOST, T0, [MIG_GPU]), T0);
  for (let t = T0; t < untilMs; t += 10 * INTERVAL) {
    const lost = t >= lostFrom && t < lostTo;
    harness.frame(t, { state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK });
  }
  return harness;
}

/** acme leases the MIG device over [fromMs, toMs) (open when null). */
function serve(harness: FlagHarness, nowMs: number, fromMs: number, toMs: number | null): FastifyInstance {
  return serveLeases(harness, nowMs, [[MIG, fromMs, toMs]]);
}

/** Leases, each [device, fromMs, toMs (null: open), tenant (acme when left out)]. */
function serveLeases(
  harness: FlagHarness,
  nowMs: number,
  list: readonly (readonly [string, number, number | null, string?])[],
): FastifyInstance {
  const now = () => nowMs;
  const leases = new LeaseService(harness.store.leases, now);
  for (const [n, [device, fromMs, toMs, tenant = "acme"]] of list.entries())
    leases.create(
      { id: `${tenant}-${n}`, device, tenant, start: fromMs, ...(toMs !== null ? { end: toMs } : {}) },
      "test",
    );
  app = tenantApp(harness, leases, now, TOKEN, ACME);
  return app;
}

const flagsOf = async (a: FastifyInstance, query: string) =>
  ((await tenantGet(a, `/api/v1/flags?${query}`)) as { flags: DetailedFlag[] }).flags;

describe("a MIG device lease and its GPU's down flags", () => {
  it("shows its GPU's lost flag clipped to the lease, as its statement counts it, and nothing else of the GPU", async () => {
    const harness = start(T0 + 90 * MIN, T0 + 30 * MIN, T0 + 45 * MIN);
    harness.clock.now = T0 + 90 * MIN;
    harness.xid([xidEvent(1, 13, { time_ms: T0 + 35 * MIN })]);
    const a = serve(harness, T0 + 90 * MIN, T0 + 20 * MIN, T0 + 40 * MIN);
    // The statement's line names the GPU the MIG device is on.
    const statement = (await tenantGet(
      a,
      `/api/v1/reports/statement?month=${new Date(T0).toISOString().slice(0, 7)}`,
    )) as {
      lines: { device: string; gpu: string }[];
    };
    expect(statement.lines.map((l) => [l.device, l.gpu])).toEqual([[MIG, UUID]]);

    // The workload's Xid during the lease is not the tenant's: another MIG device's workload.
    expect(await flagsOf(a, "state=all&kind=xid")).toEqual([]);
    const shown = await flagsOf(a, "state=all");
    expect(shown.map((f) => [f.kind, f.gpuUuid, f.startMs, f.endMs])).toEqual([
      ["lost", UUID, T0 + 30 * MIN, T0 + 40 * MIN],
    ]);
    expect(shown.reduce((n, f) => n + ((f.endMs ?? 0) - f.startMs), 0)).toBe(await statementDownMs(a, T0));
    expect((await flagsOf(a, `state=all&gpu=${UUID}`)).map((f) => f.kind)).toEqual(["lost"]);
    // The GPU itself and its series stay out of reach (its health timeline shows its down flags).
    for (const url of [`/api/v1/gpus/${UUID}`, `/api/v1/gpus/${UUID}/series?from=${T0}`]) {
      const r = await a.inject({ method: "GET", url, headers: { authorization: "Bearer gputel_acme" } });
      expect(r.statusCode, url).toBe(404);
    }
  });

  it("counts its GPU's open down flag in its summary; an Xid that counts down shows without its details", async () => {
    const now = T0 + 60 * MIN;
    const harness = start(now, T0 + 30 * MIN, now + MIN);
    harness.clock.now = now;
    harness.xid([xidEvent(1, 48, { time_ms: T0 + 40 * MIN })]);
    const a = serve(harness, now, T0 + 20 * MIN, null);
    const open = await flagsOf(a, "state=open");
    expect(open.map((f) => [f.kind, f.gpuUuid, f.startMs])).toEqual([
      ["lost", UUID, T0 + 30 * MIN],
      ["xid", UUID, T0 + 40 * MIN],
    ]);
    const xid = open.find((f) => f.kind === "xid");
    expect([xid?.reason, xid?.values]).toEqual([MIG_WITHHELD_REASON, {}]);
    expect(JSON.stringify(open)).not.toMatch(/python3|4242/);
    const summary = (await tenantGet(a, "/api/v1/summary")) as {
      flags: { open: number; byKind: Record<string, number> };
    };
    expect(summary.flags.open).toBe(open.length);
    expect(summary.flags.byKind.lost).toBe(1);
  });

  it("shows none of its GPU's Xids NVIDIA says to ignore: they take the GPU down no more than a workload's", async () => {
    // Xid 92 (high single-bit ECC rate) every 10 minutes: before, its flag showed as the GPU's
    // down flag (details withheld) in the list and the timeline's downOnly stays, and was billed.
    const now = T0 + 60 * MIN;
    const harness = start(now, now + MIN, now + 2 * MIN);
    harness.clock.now = now;
    harness.xid([20, 30, 40, 50].map((m, n) => xidEvent(n + 1, 92, { time_ms: T0 + m * MIN })));
    expect(harness.open("xid")?.values).toMatchObject({ code: 92, fault: "hardware", count: 4 });
    const a = serve(harness, now, T0 + 10 * MIN, null);
    expect(await flagsOf(a, "state=all")).toEqual([]);
    expect(await statementDownMs(a, now)).toBe(0);
    const t = await timelineOf(a, `from=${T0}&to=${now}`);
    expect([t.stays.map((s) => s.downOnly), t.flags, t.downtimeMs]).toEqual([[true], [], 0]);
  });

  it("shows its GPU's reset-required flag without the Xid that asked for it, withheld as the xid entry is", async () => {
    const now = T0 + 60 * MIN;
    const harness = start(now, now + MIN, now + MIN);
    harness.clock.now = T0 + 30 * MIN;
    const message =
      "NVRM: Xid (PCI:0000:01:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.";
    harness.xid([xidEvent(1, 79, { time_ms: T0 + 30 * MIN, pid: null, process_name: "", message })]);
    harness.clock.now = now;
    expect(harness.open("reset-required")?.values.xid_code).toBe(79);
    const a = serve(harness, now, T0 + 20 * MIN, null);
    const entries = (list: readonly DetailedFlag[]) =>
      list.map((f) => [f.kind, f.startMs, f.reason, f.values]).sort();
    const open = await flagsOf(a, "state=open");
    expect(entries(open)).toEqual([
      ["reset-required", T0 + 30 * MIN, MIG_WITHHELD_REASON, {}],
      ["xid", T0 + 30 * MIN, MIG_WITHHELD_REASON, {}],
    ]);
    // The GPU's timeline shows the same entries; the down time is the statement's.
    const timeline = await timelineOf(a, `from=${T0}&to=${now}`);
    expect(entries(timeline.flags)).toEqual(entries(open));
    expect(JSON.stringify([open, timeline])).not.toMatch(/Xid 79|xid_code/);
    expect(timeline.downtimeMs).toBe(30 * MIN);
    expect(await statementDownMs(a, now)).toBe(30 * MIN);
  });

  it("shows its GPU's acknowledged reset-required flag (no Xid asked for it) without the operator's note", async () => {
    const now = T0 + 60 * MIN;
    h = flagHarness();
    const harness = h;
    harness.store.writeInventory(inventory(HOST, T0, [MIG_GPU]), T0);
    // The GPU asks for a recovery action from 30 min on; no Xid, so nothing of it is withheld as one.
    for (let t = T0; t < now; t += 10 * INTERVAL)
      harness.frame(t, { gpu_recovery_action: t >= T0 + 30 * MIN ? 1 : 0 });
    const open = harness.open("reset-required");
    expect(open?.values.xid_code).toBeUndefined();
    harness.clock.now = T0 + 40 * MIN;
    harness.engine.acknowledge(open?.id ?? 0, "rivaljob (pid 5151) wedged it", T0 + 40 * MIN);
    harness.clock.now = now;
    expect(harness.history("reset-required")[0]?.values.ack_note).toBe("rivaljob (pid 5151) wedged it");
    const a = serve(harness, now, T0 + 20 * MIN, null);
    const shown = await flagsOf(a, "state=all&kind=reset-required");
    expect(shown.map((f) => [f.kind, f.startMs, f.endMs])).toEqual([
      ["reset-required", T0 + 30 * MIN, T0 + 40 * MIN],
    ]);
    // The cause stays (it names no one); the note gives way to a sentence of its own.
    expect(shown[0]?.reason).toMatch(/recovery action/i);
    expect(shown[0]?.reason).toContain(MIG_NOTE_WITHHELD);
    expect(shown[0]?.values.ack_note).toBeUndefined();
    const timeline = await timelineOf(a, `from=${T0}&to=${now}`);
    expect(timeline.flags.map((f) => [f.reason, f.values])).toEqual(shown.map((f) => [f.reason, f.values]));
    expect(JSON.stringify([shown, timeline])).not.toMatch(/rivaljob|5151|wedged/);
    expect(await statementDownMs(a, now)).toBe(10 * MIN);
  });
});

/** A hardware Xid (48, double-bit ECC error) that names `pid` and `process`. */
const hardwareXid = (seq: number, atMs: number, pid: number, process: string) =>
  xidEvent(seq, 48, {
    time_ms: atMs,
    pid,
    process_name: process,
    message: `NVRM: Xid (PCI:0000:01:00): 48, pid=${pid}, name=${process}, Ch 00000008`,
  });

/** The GPU up until `nowMs`; at T0 + 30 min a hardware Xid hit pid 5151 (rivaljob), open since. */
function rivalXid(nowMs: number): FlagHarness {
  const harness = start(nowMs, nowMs + MIN, nowMs + MIN);
  harness.clock.now = T0 + 30 * MIN;
  harness.xid([hardwareXid(1, T0 + 30 * MIN, 5151, "rivaljob")]);
  harness.clock.now = nowMs;
  return harness;
}

describe("a whole-GPU lease beside a MIG lease of the same GPU", () => {
  it("shows a down flag over the join as one entry; an Xid's details written in the MIG period stay withheld", async () => {
    const now = T0 + 90 * MIN;
    const harness = start(now, T0 + 35 * MIN, T0 + 45 * MIN);
    // acme's own process hit while it held the whole GPU, then another MIG tenant's.
    harness.clock.now = T0 + 30 * MIN;
    harness.xid([hardwareXid(1, T0 + 30 * MIN, 4242, "python3")]);
    harness.clock.now = T0 + 50 * MIN;
    harness.xid([hardwareXid(2, T0 + 50 * MIN, 5151, "rivaljob")]);
    harness.clock.now = now;
    const a = serveLeases(harness, now, [
      [UUID, T0 + 20 * MIN, T0 + 40 * MIN],
      [MIG, T0 + 40 * MIN, T0 + 60 * MIN],
    ]);
    const shown = await flagsOf(a, "state=all");
    expect(shown.map((f) => [f.kind, f.startMs, f.endMs]).sort()).toEqual([
      ["lost", T0 + 35 * MIN, T0 + 45 * MIN],
      ["xid", T0 + 30 * MIN, T0 + 60 * MIN],
    ]);
    // The down time over the join is the statement's: the whole-GPU lease's and the MIG lease's.
    const lost = shown.filter((f) => f.kind === "lost");
    expect(lost.reduce((n, f) => n + ((f.endMs ?? 0) - f.startMs), 0)).toBe(10 * MIN);
    // The Xid entry runs into the MIG period, whose Xid names another tenant's process: withheld whole.
    const xid = shown.find((f) => f.kind === "xid");
    expect([xid?.reason, xid?.values]).toEqual([MIG_WITHHELD_REASON, {}]);
    expect(JSON.stringify(shown)).not.toMatch(/rivaljob|5151/);
    // The GPU's timeline covers both leases, the MIG one for its down time alone (no event of
    // it), and shows the entries as the list does, the down time the list's.
    const timeline = await timelineOf(a, `from=${T0}&to=${now}`);
    expect(timeline.stays).toEqual([
      { fromMs: T0 + 20 * MIN, toMs: T0 + 40 * MIN },
      { fromMs: T0 + 40 * MIN, toMs: T0 + 60 * MIN, downOnly: true },
    ]);
    expect(timeline.events.map((e) => e.timeMs)).toEqual([T0 + 30 * MIN]);
    expect(timeline.flags.map((f) => [f.id, f.kind, f.startMs, f.endMs]).sort()).toEqual(
      shown.map((f) => [f.id, f.kind, f.startMs, f.endMs]).sort(),
    );
    expect(timeline.downtimeMs).toBe(10 * MIN);
    expect(timeline.flags.find((f) => f.kind === "xid")?.reason).toBe(MIG_WITHHELD_REASON);
    expect(JSON.stringify(timeline)).not.toMatch(/rivaljob|5151/);
  });

  it("an Xid written in the MIG period, still open once the tenant holds the whole GPU, names no process", async () => {
    const now = T0 + 42 * MIN;
    const harness = rivalXid(now);
    const a = serveLeases(harness, now, [
      [MIG, T0 + 20 * MIN, T0 + 40 * MIN],
      [UUID, T0 + 40 * MIN, null],
    ]);
    const open = await flagsOf(a, "state=open");
    expect(open.map((f) => [f.kind, f.startMs, f.reason])).toEqual([
      ["xid", T0 + 30 * MIN, MIG_WITHHELD_REASON],
    ]);
    // The GPU as the tenant sees it shows the flag as its flag list does.
    const gpu = (await tenantGet(a, `/api/v1/gpus/${UUID}`)) as { flags: GpuFlagRef[] };
    const entry = (f: { id: number; kind: string; startMs: number; reason: string }) => [
      f.id,
      f.kind,
      f.startMs,
      f.reason,
    ];
    expect(gpu.flags.map(entry)).toEqual(open.map(entry));
    for (const url of [`/api/v1/gpus/${UUID}`, "/api/v1/gpus", "/api/v1/summary", "/api/v1/fleet/cells"])
      expect(JSON.stringify(await tenantGet(a, url)), url).not.toMatch(/rivaljob|5151/);
  });

  it("an Xid written in another tenant's lease, still open in the tenant's whole-GPU lease, names no process", async () => {
    const now = T0 + 42 * MIN;
    const harness = rivalXid(now);
    const a = serveLeases(harness, now, [
      [UUID, T0, T0 + 40 * MIN, "globex"],
      [UUID, T0 + 40 * MIN, null],
    ]);
    const gpu = (await tenantGet(a, `/api/v1/gpus/${UUID}`)) as { flags: GpuFlagRef[] };
    expect(gpu.flags.map((f) => [f.kind, f.startMs, f.reason])).toEqual([
      ["xid", T0 + 40 * MIN, WITHHELD_REASON],
    ]);
    for (const url of [`/api/v1/gpus/${UUID}`, "/api/v1/gpus", "/api/v1/fleet/cells"])
      expect(JSON.stringify(await tenantGet(a, url)), url).not.toMatch(/rivaljob|5151/);
  });
});

/**
 * At T0 + 45 min: a hardware Xid of each [minute, pid, process], in turn, on the GPU (whole,
 * up), with globex's lease over [0, 40) min and acme's open from 40 min.
 */
function xidsAcrossLeases(
  xids: readonly (readonly [number, number, string])[],
  firstTenant = "globex",
): FastifyInstance {
  const now = T0 + 45 * MIN;
  const harness = start(now, now + MIN, now + MIN);
  for (const [n, [minute, pid, process]] of xids.entries()) {
    harness.clock.now = T0 + minute * MIN;
    harness.xid([hardwareXid(n + 1, T0 + minute * MIN, pid, process)]);
  }
  harness.clock.now = now;
  return serveLeases(harness, now, [
    [UUID, T0, T0 + 40 * MIN, firstTenant],
    [UUID, T0 + 40 * MIN, null],
  ]);
}

describe("a whole-GPU lease after another tenant's, and an xid flag open across the two", () => {
  it("names no process of an Xid that happened in the other tenant's lease, though a later Xid updated the flag in its own", async () => {
    // globex's job hits a hardware Xid late in its lease, acme's job another early in its own.
    const a = xidsAcrossLeases([
      [35, 5151, "rivaljob"],
      [42, 4242, "python3"],
    ]);
    expect(h?.open("xid")?.updatedMs).toBe(T0 + 42 * MIN);
    const open = await flagsOf(a, "state=open&kind=xid");
    expect(open.map((f) => [f.kind, f.startMs, f.reason, f.values])).toEqual([
      ["xid", T0 + 40 * MIN, WITHHELD_REASON, {}],
    ]);
    const gpu = (await tenantGet(a, `/api/v1/gpus/${UUID}`)) as { flags: GpuFlagRef[] };
    expect(gpu.flags.map((f) => f.reason)).toEqual([WITHHELD_REASON]);
    const timeline = await timelineOf(a, `from=${T0}&to=${T0 + 45 * MIN}`);
    for (const body of [open, gpu, timeline.flags]) expect(JSON.stringify(body)).not.toMatch(/rivaljob|5151/);
  });

  it("reads no operator's note on such a flag, acknowledged in its own lease, in the GPU's timeline", async () => {
    const a = xidsAcrossLeases([
      [35, 5151, "rivaljob"],
      [42, 4242, "python3"],
    ]);
    const flag = h?.open("xid");
    h?.engine.acknowledge(flag?.id ?? 0, "rivaljob (pid 5151) wedged it", T0 + 44 * MIN);
    const timeline = await timelineOf(a, `from=${T0}&to=${T0 + 45 * MIN}`);
    expect(timeline.acknowledgements.map((k) => [k.atMs, k.note])).toEqual([
      [T0 + 44 * MIN, WITHHELD_REASON],
    ]);
    expect(timeline.flags.map((f) => [f.kind, f.reason])).toEqual([["xid", WITHHELD_REASON]]);
    expect(JSON.stringify(timeline)).not.toMatch(/rivaljob|5151/);
  });

  it("shows the details of Xids on either side of its own renewal: two leases back to back are one stay", async () => {
    // acme's lease ends at T0 + 40 min and its renewal starts there: its own job's Xids, before
    // and after, are acme's to read.
    const a = xidsAcrossLeases(
      [
        [35, 4242, "python3"],
        [42, 4243, "python3"],
      ],
      "acme",
    );
    const [xid] = await flagsOf(a, "state=open&kind=xid");
    expect(xid?.reason).toMatch(/process python3, pid 4242/);
    expect([xid?.startMs, xid?.values.pid, xid?.values.count]).toEqual([T0 + 35 * MIN, 4243, 2]);
  });

  it("shows the details of Xids that all happened inside its own lease", async () => {
    const a = xidsAcrossLeases([
      [41, 4242, "python3"],
      [42, 4243, "python3"],
    ]);
    const [xid] = await flagsOf(a, "state=open&kind=xid");
    expect(xid?.reason).toMatch(/process python3, pid 4242/);
    expect([xid?.values.pid, xid?.values.count]).toEqual([4243, 2]);
  });
});
