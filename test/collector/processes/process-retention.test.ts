// Retention of process sessions (Store.pruneProcesses): a session last seen before the longest
// tier goes, closed or not. A host that went silent for good never sends the set that would close
// its sessions; they must not outlive the retention because of that.
import { afterEach, describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import type { Store } from "../../../collector/store/store.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { type TempStore, tempStore } from "../store/synth.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const RETENTION = ["48h:raw", "30d:1m"];

function proc(pid: number): IProcessRecord {
  return { gpu_uuid: "GPU-test-0", pid, start_ms: NOW - 60 * DAY, name: "python3", used_memory_mib: 500 };
}

function writeSet(store: Store, host: string, at: number, processes: IProcessRecord[]): void {
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: "b1",
    seq: 1,
    timestamp_ms: at,
    processes,
  }).finish();
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
});
