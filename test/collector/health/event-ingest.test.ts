// Ingest of kernel-log events: checked and bounded like frames, attributed to the topic's host,
// stored once by (host, kernel boot, kernel seq) in the real SQLite store.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import { DEFAULT_LIMITS } from "../../../collector/ingest/limits.js";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../../../collector/store/migrate.js";
import { silentLogger } from "../../../shared/logger.js";
import { EventKind } from "../../../shared/proto.js";
import { type TempStore, tempStore } from "../store/synth.js";
import { eventPayload, eventTopic, KERNEL_BOOT, xidEvent } from "./events.js";

const NOW = Date.UTC(2026, 10, 23, 12, 5, 0);
const H = "gpu-node-01";
const ctx = { username: undefined, nowMs: NOW };

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("EventBatch check", () => {
  it("accepts an Xid with the catalogue's action and the host of its topic", () => {
    const checked = checkMessage(eventTopic(H), eventPayload(H, [xidEvent(1, 79), xidEvent(2, 13)]), ctx);
    expect(checked.rejections).toEqual([]);
    expect(checked.events.map((e) => [e.host, e.code, e.action, e.applicationLevel])).toEqual([
      [H, 79, "reboot", false],
      [H, 13, "restart-app", true],
    ]);
    expect(checked.events[1]).toMatchObject({ pid: 4242, processName: "python3", gpuUuid: "GPU-test-0" });
  });

  it("takes an NVLink5 Xid's action from the row of NVIDIA's XID 144-150 decode its message selects", () => {
    // Details of lines quoted in leptonai/gpud PR 1174 (test/fixtures/kernel-log/), as the agent sends them.
    const linkDown =
      "NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x025001c6 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000)";
    const rxpipe =
      "RLW_RXPIPE Nonfatal XC0 i0 Link 13 (0x0409a0c2 0x00000008 0x00000001 0x00000000 0x00100000 0x00000004)";
    const bare = { pid: null, process_name: "" };
    const checked = checkMessage(
      eventTopic(H),
      eventPayload(H, [
        xidEvent(1, 149, { ...bare, message: linkDown }),
        xidEvent(2, 145, { ...bare, message: rxpipe }),
        xidEvent(3, 149, { ...bare, message: "Link 00 down" }),
      ]),
      ctx,
    );
    expect(checked.rejections).toEqual([]);
    // The first two from the decode sheet's rows; the last, not decodable, the catalogue's row.
    expect(checked.events.map((e) => [e.code, e.action])).toEqual([
      [149, "reset-gpu"],
      [145, "none"],
      [149, "investigate"],
    ]);
  });

  it("keeps an unmapped bus id unmapped, and an SXid off every GPU", () => {
    const events = [
      xidEvent(1, 48, { gpu_uuid: "", gpu_index: null }),
      xidEvent(2, 12028, { kind: EventKind.EVENT_KIND_SXID, gpu_uuid: "GPU-test-0" }),
    ];
    const checked = checkMessage(eventTopic(H), eventPayload(H, events), ctx);
    expect(checked.events.map((e) => [e.kind, e.gpuUuid, e.gpuIndex])).toEqual([
      ["xid", null, null],
      ["sxid", null, null],
    ]);
  });

  it.each([
    ["bus id", { pci_bus_id: "PCI:0000:01:00; rm -rf" }],
    ["code 0", { code: 0 }],
    ["kind", { kind: EventKind.EVENT_KIND_UNSPECIFIED }],
    ["uuid", { gpu_uuid: "GPU/../../x" }],
    ["pid", { pid: 99_999_999 }],
    ["process name", { process_name: "p".repeat(300) }],
    ["message", { message: "m".repeat(1025) }],
    ["time", { time_ms: 5 }],
    ["future", { time_ms: NOW + 3600_000 }],
    ["boot id", { kernel_boot_id: "" }],
    ["source", { source: "tcp" }],
  ])("drops an event with a bad %s alone (event_invalid)", (_name, over) => {
    const checked = checkMessage(
      eventTopic(H),
      eventPayload(H, [xidEvent(1, 79, over), xidEvent(2, 79)]),
      ctx,
    );
    expect(checked.rejections.map((r) => r.reason)).toEqual(["event_invalid"]);
    expect(checked.events.map((e) => e.kernelSeq)).toEqual([2]);
  });

  it("rejects the whole batch for another host, too many events, or none", () => {
    const other = checkMessage(eventTopic("other"), eventPayload(H, [xidEvent(1, 79)]), ctx);
    expect(other.rejections.map((r) => r.reason)).toEqual(["host_mismatch"]);
    expect(other.events).toEqual([]);
    const many = Array.from({ length: 5 }, (_, i) => xidEvent(i + 1, 13));
    const limited = checkMessage(eventTopic(H), eventPayload(H, many), {
      ...ctx,
      limits: { ...DEFAULT_LIMITS, maxEventsPerBatch: 4 },
    });
    expect(limited.rejections.map((r) => r.reason)).toEqual(["too_many_events"]);
    expect(checkMessage(eventTopic(H), eventPayload(H, []), ctx).rejections.map((r) => r.reason)).toEqual([
      "empty_batch",
    ]);
  });
});

describe("EventBatch ingest into the store", () => {
  it("stores each event once, however often it is re-sent, and hands on only new ones", async () => {
    tmp = tempStore();
    const store = tmp.open();
    const committed: number[][] = [];
    const pipeline = new IngestPipeline({
      sink: store,
      logger: silentLogger(),
      fleet: store.fleet,
      now: () => NOW,
      onCommitted: (c) => committed.push((c.events ?? []).map((e) => e.kernelSeq)),
    });
    pipeline.start();
    const payload = eventPayload(H, [xidEvent(1, 79), xidEvent(2, 13)]);
    expect((await pipeline.submit(eventTopic(H), payload, undefined)).stored).toBe(true);
    await pipeline.submit(eventTopic(H), payload, undefined);
    // Same sequence under another kernel boot: a different event.
    await pipeline.submit(
      eventTopic(H),
      eventPayload(H, [xidEvent(1, 79, { kernel_boot_id: "b2" })]),
      undefined,
    );
    await pipeline.stop();
    const rows = store.events().list({ limit: 10 });
    // Two of one millisecond in the fleet's order, by kernel boot ("3f1c…" before "b2").
    expect(rows.map((r) => [r.kernelBootId, r.kernelSeq, r.code])).toEqual([
      [KERNEL_BOOT, 2, 13],
      [KERNEL_BOOT, 1, 79],
      ["b2", 1, 79],
    ]);
    expect(committed).toEqual([[1, 2], [1]]);
    expect(pipeline.snapshot()).toMatchObject({ eventsStored: 3, eventsDuplicate: 2 });
    const gpu = { host: H, gpuUuid: "GPU-test-0", gpuIndex: 0 };
    expect(store.events().xidCounts()).toEqual([
      { ...gpu, code: 13, action: "restart-app", applicationLevel: true, count: 1 },
      { ...gpu, code: 79, action: "reboot", applicationLevel: false, count: 2 },
    ]);
  });

  it("filters and pages newest first", () => {
    tmp = tempStore();
    const store = tmp.open();
    const checked = checkMessage(
      eventTopic(H),
      eventPayload(
        H,
        [1, 2, 3, 4].map((s) => xidEvent(s, s % 2 === 0 ? 79 : 13)),
      ),
      ctx,
    );
    store.writeEvents(checked.events, NOW);
    const events = store.events();
    const first = events.list({ limit: 2 });
    expect(first.map((e) => e.kernelSeq)).toEqual([4, 3]);
    const last = first[1]!;
    const next = events.list({ limit: 2, before: { timeMs: last.timeMs, id: last.id } });
    expect(next.map((e) => e.kernelSeq)).toEqual([2, 1]);
    expect(events.list({ limit: 10, codes: [13] }).map((e) => e.kernelSeq)).toEqual([3, 1]);
    expect(events.list({ limit: 10, actions: ["reboot"], host: H }).map((e) => e.kernelSeq)).toEqual([4, 2]);
    expect(events.list({ limit: 10, gpuUuid: "GPU-other" })).toEqual([]);
  });
});

describe("event retention", () => {
  it("deletes events older than the longest retention tier, in bounded batches", () => {
    tmp = tempStore();
    const store = tmp.open({ retention: ["1h:raw", "1d:1m"] });
    const old = checkMessage(
      eventTopic(H),
      eventPayload(
        H,
        [1, 2, 3].map((s) => xidEvent(s, 79)),
      ),
      {
        ...ctx,
        nowMs: NOW + 3600_000,
      },
    );
    store.writeEvents(old.events, NOW);
    const later = NOW + 25 * 3600_000;
    expect(store.pruneEvents(later, 2)).toBe(2);
    expect(store.pruneEvents(later, 2)).toBe(1);
    expect(store.pruneEvents(NOW, 2)).toBe(0);
    expect(store.events().list({ limit: 10 })).toEqual([]);
  });

  it("refuses an event re-sent after retention pruned it (event_too_old): neither stored nor counted again", async () => {
    tmp = tempStore();
    const store = tmp.open({ retention: ["1h:raw", "1d:1m"] });
    let now = NOW;
    const pipeline = new IngestPipeline({
      sink: store,
      logger: silentLogger(),
      fleet: store.fleet,
      now: () => now,
    });
    pipeline.start();
    const payload = eventPayload(H, [xidEvent(1, 79)]);
    expect((await pipeline.submit(eventTopic(H), payload, undefined)).stored).toBe(true);
    now = NOW + 25 * 3600_000;
    expect(store.pruneEvents(now)).toBe(1);
    // The agent replays its boot's kernel log: the same line, the same (boot, seq).
    const replay = await pipeline.submit(eventTopic(H), payload, undefined);
    await pipeline.stop();
    expect(replay.stored).toBe(false);
    expect(replay.rejections.map((r) => r.reason)).toEqual(["event_too_old"]);
    expect(store.events().list({ limit: 10 })).toEqual([]);
    expect(
      store
        .events()
        .xidCounts()
        .map((c) => c.count),
    ).toEqual([1]);
    expect(store.rejectCounts().map((r) => [r.reason, r.count])).toEqual([["event_too_old", 1]]);
    expect(pipeline.snapshot()).toMatchObject({ eventsStored: 1 });
  });

  it("keeps the running Xid counts through pruning, a re-sent event and a restart", () => {
    tmp = tempStore();
    const store = tmp.open({ retention: ["1h:raw", "1d:1m"] });
    const checked = checkMessage(eventTopic(H), eventPayload(H, [xidEvent(1, 79), xidEvent(2, 79)]), ctx);
    store.writeEvents(checked.events, NOW);
    const counted = [
      {
        host: H,
        gpuUuid: "GPU-test-0",
        gpuIndex: 0,
        code: 79,
        action: "reboot",
        applicationLevel: false,
        count: 2,
      },
    ];
    expect(store.events().xidCounts()).toEqual(counted);
    expect(store.pruneEvents(NOW + 25 * 3600_000)).toBe(2);
    expect(store.events().xidCounts()).toEqual(counted);
    const more = checkMessage(eventTopic(H), eventPayload(H, [xidEvent(3, 79), xidEvent(3, 79)]), ctx);
    store.writeEvents(more.events, NOW);
    store.writeEvents(more.events, NOW);
    const three = [{ ...counted[0], count: 3 }];
    expect(store.events().xidCounts()).toEqual(three);
    store.close();
    const restarted = tmp.open({ retention: ["1h:raw", "1d:1m"] });
    expect(restarted.events().xidCounts()).toEqual(three);
  });

  it("counts in the events a database held before it kept running counts (migration 096)", () => {
    tmp = tempStore();
    const before = join(tmp.dir, "migrations-095");
    mkdirSync(before);
    for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => Number.parseInt(f, 10) <= 95))
      copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
    const db = new Database(tmp.path);
    migrate(db, before);
    const insert = db.prepare(
      `INSERT INTO events (host, kernel_boot_id, kernel_seq, kind, code, pci_bus_id, gpu_uuid, gpu_index,
         message, time_ms, received_ms, source, agent_boot_id, action, application_level)
       VALUES (?, 'k', ?, ?, ?, '0000:01:00', ?, ?, 'm', 0, 0, 'kmsg', 'a', ?, 0)`,
    );
    insert.run(H, 1, "xid", 79, "GPU-test-0", 0, "reboot");
    insert.run(H, 2, "xid", 79, "GPU-test-0", 0, "reboot");
    insert.run(H, 3, "xid", 48, null, null, "investigate");
    insert.run(H, 4, "sxid", 12028, null, null, "investigate");
    db.close();
    const common = { host: H, applicationLevel: false };
    expect(tmp.open().events().xidCounts()).toEqual([
      { ...common, gpuUuid: null, gpuIndex: null, code: 48, action: "investigate", count: 1 },
      { ...common, gpuUuid: "GPU-test-0", gpuIndex: 0, code: 79, action: "reboot", count: 2 },
    ]);
  });
});
