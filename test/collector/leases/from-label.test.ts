// leases.from_label: the pure decision, and a real collector (config key set) fed frames whose
// `customer` label changes: the old lease ends and a new one starts at the frame's time, so the
// past stays with the old tenant; a GPU first seen with the label gets a lease from then.
import { Writable } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { decideFromLabel } from "../../../collector/leases/from-label.js";
import { LabelLeaseWatcher } from "../../../collector/leases/label-watcher.js";
import type { Lease } from "../../../collector/leases/model.js";
import { LeaseService } from "../../../collector/leases/service.js";
import { createLogger, silentLogger } from "../../../shared/logger.js";
import { startTestCollector, type TestCollector } from "../../security/collector-helpers.js";
import { framePayload, frameTopic, gpuSample } from "../ingest/frames.js";
import { frameFor, openLeaseStore } from "./store-helpers.js";

const lease = (over: Partial<Lease>): Lease => ({
  id: "L",
  device: "GPU-A",
  gpu: "GPU-A",
  tenant: "acme",
  startMs: 0,
  endMs: null,
  contract: null,
  priceMicros: null,
  currency: null,
  availabilityMilli: null,
  labels: {},
  source: "label",
  ...over,
});

describe("decideFromLabel", () => {
  test.each([
    ["same tenant", lease({}), "acme", { kind: "keep" }],
    ["new tenant", lease({}), "globex", { kind: "change", end: "L", start: "globex", atMs: 9 }],
    ["label removed", lease({}), undefined, { kind: "change", end: "L", atMs: 9 }],
    ["first seen", undefined, "acme", { kind: "change", start: "acme", atMs: 9 }],
    ["never labelled", undefined, "", { kind: "keep" }],
    ["manual lease wins", lease({ source: "api" }), "globex", { kind: "ignore", reason: "manual_lease" }],
    ["not a tenant name", undefined, "a b/c", { kind: "ignore", reason: "bad_value" }],
    ["late replay inside a closed lease", lease({ endMs: 20 }), "globex", { kind: "keep" }],
  ])("%s", (_name, current, value, expected) => {
    expect(decideFromLabel(current, value, 9)).toEqual(expected);
  });
});

describe("a collector with leases.from_label: customer", () => {
  let c: TestCollector | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  test("a label change ends the old lease and starts the new one at the frame's time", async () => {
    c = await startTestCollector({ overrides: { "leases.from_label": "customer" } });
    const t0 = Date.now() - 3_600_000;
    const gpus = [gpuSample(0), gpuSample(1)];
    const uuid = gpus[0]?.uuid as string;
    const send = (seq: number, customer: string | undefined) =>
      c?.running.pipeline.submit(
        frameTopic("node-a"),
        framePayload("node-a", seq, {
          timestampMs: t0 + seq * 1000,
          overrides: { gpus, labels: customer === undefined ? {} : { customer } },
        }),
        undefined,
      );
    await send(1, "acme");
    await send(2, "acme");
    await send(3, "globex");
    await send(4, "globex");
    await send(5, undefined);
    const leases = c.running.store.leases.list({ device: uuid, limit: 10 });
    expect(
      leases.map((l) => [l.tenant, l.startMs - t0, l.endMs === null ? null : l.endMs - t0, l.source]),
    ).toEqual([
      ["acme", 1000, 3000, "label"],
      ["globex", 3000, 5000, "label"],
    ]);
    expect(c.running.store.leases.list({ limit: 10 }).length).toBe(4);
    const history = c.running.store.leases.history(leases[0]?.id as string);
    expect(history.map((h) => [h.action, h.actor])).toEqual([
      ["create", "from_label"],
      ["end", "from_label"],
    ]);
  });
});

test("a label key named like an Object.prototype member reads only the frame's own labels", () => {
  const uuid = "GPU-77777777-2222-3333-4444-555555555555";
  const t = openLeaseStore([uuid]);
  try {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const watcher = new LabelLeaseWatcher(
      new LeaseService(t.store.leases),
      "constructor",
      createLogger({}, { destination, level: "debug" }),
    );
    watcher.onFrames([frameFor("host-a", [uuid], Date.parse("2026-11-02T00:00:00Z"))]);
    expect(lines.filter((l) => l.includes("Label not applied"))).toEqual([]);
    watcher.onFrames([
      frameFor("host-a", [uuid], Date.parse("2026-11-02T00:01:00Z"), 2, { constructor: "acme" }),
    ]);
    expect(t.store.leases.list({ limit: 10 }).map((l) => l.tenant)).toEqual(["acme"]);
  } finally {
    t.close();
  }
});

test("once an open manual lease is ended, the label's tenant gets a lease again within a minute", () => {
  const uuid = "GPU-88888888-2222-3333-4444-555555555555";
  const t0 = Date.parse("2026-11-02T00:00:00Z");
  const t = openLeaseStore([uuid], t0);
  try {
    let nowMs = t0;
    const service = new LeaseService(t.store.leases, () => nowMs);
    service.create({ id: "manual", device: uuid, tenant: "globex", start: t0 }, "t");
    const watcher = new LabelLeaseWatcher(service, "customer", silentLogger());
    const frameAt = (ms: number, seq: number) => {
      nowMs = ms;
      watcher.onFrames([frameFor("host-a", [uuid], ms, seq, { customer: "acme" })]);
    };
    frameAt(t0 + 1_000, 1); // the open manual lease holds the device: the label waits
    nowMs = t0 + 10 * 60_000;
    service.end("manual", undefined, "t");
    for (let s = 0; s <= 120; s++) frameAt(t0 + 10 * 60_000 + s * 1_000, 2 + s);
    const leases = t.store.leases.list({ device: uuid, limit: 10 });
    expect(leases.map((l) => [l.id === "manual" ? "manual" : l.source, l.tenant])).toEqual([
      ["manual", "globex"],
      ["label", "acme"],
    ]);
    const labelled = leases.find((l) => l.source === "label");
    expect(labelled?.startMs).toBeLessThanOrEqual(t0 + 11 * 60_000);
  } finally {
    t.close();
  }
});
