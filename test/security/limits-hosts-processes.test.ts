// limits.max_hosts bounds every message that can create a host, process sets included: a host new
// past the limit has its process set dropped (host_limit) like its frames, events and inventory,
// so invented host names cannot grow the process tables.
import { afterEach, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../collector/ingest/limits.js";
import { IngestPipeline } from "../../collector/ingest/pipeline.js";
import { silentLogger } from "../../shared/logger.js";
import { ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { type TempStore, tempStore } from "../collector/store/synth.js";
import { batchOf } from "./attack-parts.js";

let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

it("drops a process set of a host new past limits.max_hosts", async () => {
  tmp = tempStore();
  const store = tmp.open();
  const pipeline = new IngestPipeline({
    sink: store,
    logger: silentLogger(),
    fleet: store.fleet,
    limits: { ...DEFAULT_LIMITS, maxHosts: 1 },
  });
  pipeline.start();
  await pipeline.submit(topicFor("node-a", "frame"), batchOf("node-a", 1, { "GPU-a-0": 40 }), undefined);
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host: "node-b",
    boot_id: "agent-boot-1",
    seq: 1,
    timestamp_ms: Date.now(),
    processes: [{ gpu_uuid: "GPU-b-0", pid: 100, name: "train" }],
  }).finish();
  const result = await pipeline.submit(topicFor("node-b", "processes"), payload, undefined);
  await pipeline.stop();
  expect(result).toMatchObject({ stored: false });
  expect(result.rejections.map((r) => r.reason)).toEqual(["host_limit"]);
  expect(store.processes().query({ host: "node-b", limit: 10 })).toEqual([]);
  expect(store.hostRows().map((h) => h.name)).toEqual(["node-a"]);
});
