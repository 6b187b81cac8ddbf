// A status's source counters are untrusted numbers like a frame's: a count that is not a whole
// number within 2^53 (uint64 loses precision past it, and /metrics would show the rounded value)
// or an error time that is negative or ahead of the collector's clock rejects the status.
import { describe, expect, it } from "vitest";
import { checkMessage } from "../../../collector/ingest/check.js";
import { AgentState, type ISourceStatus, SCHEMA_VERSION, Status } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

function statusWith(source: ISourceStatus): Uint8Array {
  return Status.encode({
    schema_version: SCHEMA_VERSION,
    host: "node-1",
    state: AgentState.AGENT_STATE_ONLINE,
    timestamp_ms: NOW,
    boot_id: "boot-1",
    sources: [{ name: "nvidia-smi", ...source }],
  }).finish();
}

const reasons = (source: ISourceStatus) =>
  checkMessage(topicFor("node-1", "status"), statusWith(source), {
    username: undefined,
    nowMs: NOW,
  }).rejections.map((r) => r.reason);

describe("status source counters", () => {
  it.each([
    ["restarts past 2^53", { restarts: 2 ** 63 }],
    ["timeouts past 2^53", { timeouts: 2 ** 60 }],
    ["stuck_children past 2^53", { stuck_children: 2 ** 54 }],
    ["a negative last_error_ms", { last_error_ms: -5 }],
    ["a last_error_ms a day ahead", { last_error_ms: NOW + 86_400_000 }],
  ])("rejects %s", (_name, source) => {
    expect(reasons(source)).toEqual(["field_invalid"]);
  });

  it("takes counts within 2^53 and an error time now or never", () => {
    expect(reasons({ restarts: 2 ** 53 - 1, exits: 3, last_error_ms: NOW, last_error: "x" })).toEqual([]);
    expect(reasons({ restarts: 0, last_error_ms: 0 })).toEqual([]);
  });
});
