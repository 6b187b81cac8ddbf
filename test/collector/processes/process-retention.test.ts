// Retention of process sessions (Store.pruneProcesses): a session last seen before the longest
// tier goes, closed or not. A host that went silent for good never sends the set that would close
// its sessions; they must not outlive the retention because of that. Nor may a set re-sent after
// the prune (a spool replayed after a long outage) store them again: ingest refuses it.
import { afterEach, describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { Store } from "../../../collector/store/store.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { storePipeline, type TempStore, tempStore } from "../store/synth.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const RETENTION = ["48h:raw", "30d:1m"];

function proc(pid: number): IProcessRecord {
  return { gpu_uuid: "GPU-test-0", pid, start_ms: NOW - 60 * DAY, name: "python3", used_memory_mib: 500 };
}

function setPayload(host: string, at: number, processes: IProcessRecord[], seq = 1): Uint8Array {
  return ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: "b1",
    seq,
    timestamp_ms: at,
    processes,
  }).finish();
}

function writeSet(store: Store, host: string, at: number, processes: IProcessRecord[]): void {
  const payload = setPayload(host, at, processes);
  const checked = checkMessage(topicFor(host, "processes"), payload, { username: undefined, nowMs: at });
  if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
  store.writeProcesses(checked.processes, at);
}

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("process session retention", () => {
  it("prunes sessions last seen before the longest tier, also those of a host that went silent", () => {
    tmp = tempStore();
    const store = tmp.open({ retention: RETENTION });
    // host-a: pid 1 ended 40 days ago (closed by the next set), pid 2 runs on.
    writeSet(store, "host-a", NOW - 41 * DAY, [proc(1), proc(2)]);
    writeSet(store, "host-a", NOW - 40 * DAY, [proc(2)]);
    writeSet(store, "host-a", NOW - 60_000, [proc(2)]);
    // host-b: last heard of 40 days ago, its set still listing pid 3: nothing ever closes it.
    writeSet(store, "host-b", NOW - 40 * DAY, [proc(3)]);
    store.pruneProcesses(NOW);
    const left = store.processes().query({ limit: 10 });
    expect(left.map((r) => [r.host, r.pid])).toEqual([["host-a", 2]]);
  });

  it("refuses a set re-sent after the prune (process_too_old), never a live process however old", async () => {
    tmp = tempStore();
    const store = tmp.open({ retention: RETENTION });
    let now = NOW - 40 * DAY;
    const pipeline = storePipeline(store, () => now);
    const topic = topicFor("host-a", "processes");
    // pid 1 ran 40 days ago; retention (30 days) prunes its session.
    const old = setPayload("host-a", NOW - 40 * DAY, [proc(1)], 1);
    expect((await pipeline.submit(topic, old, undefined)).stored).toBe(true);
    now = NOW;
    store.pruneProcesses(now);
    expect(store.processes().query({ limit: 10 })).toEqual([]);
    // The agent's spool replays that set after a long broker outage.
    const replay = await pipeline.submit(topic, old, undefined);
    expect(replay.stored).toBe(false);
    expect(replay.rejections.map((r) => r.reason)).toEqual(["process_too_old"]);
    // pid 2 started 60 days ago and runs now; a set exactly at the horizon is still kept.
    expect(
      (await pipeline.submit(topic, setPayload("host-a", NOW - 30 * DAY, [proc(3)], 2), undefined)).stored,
    ).toBe(true);
    expect((await pipeline.submit(topic, setPayload("host-a", NOW, [proc(2)], 3), undefined)).stored).toBe(
      true,
    );
    await pipeline.stop();
    store.pruneProcesses(now);
    expect(
      store
        .processes()
        .query({ limit: 10 })
        .map((r) => [r.pid, r.open]),
    ).toEqual([
      [2, true],
      [3, false],
    ]);
    expect(store.rejectCounts().map((r) => [r.reason, r.count])).toEqual([["process_too_old", 1]]);
  });
});
