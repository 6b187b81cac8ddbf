// The gpu-claim-conflict flag on its own (FlagEngine on a real SQLite file, fake clock): opened
// once per claiming host and GPU however often the claim repeats, closed at once when the move is
// accepted, or CLEAR_AFTER_MS after the last refusal; bounded per claiming host.
import { afterEach, describe, expect, it } from "vitest";
import { CLEAR_AFTER_MS } from "../../collector/flags/claim-flags.js";
import type { ClaimEvent } from "../../collector/ingest/admission.js";
import { cleanup, type Harness, harness, T0 } from "../collector/flags/helpers.js";

let h: Harness;
afterEach(() => cleanup(h));

const refused = (uuid: string, host = "node-b"): ClaimEvent => ({
  type: "refused",
  host,
  uuid,
  index: 0,
  owner: "node-a",
  detail: "held by node-a, which lists it in its inventory and reported 1 s ago (hold 600 s)",
});
const kinds = (type: string) =>
  h.events.filter((e) => e.type === type && e.flag.kind === "gpu-claim-conflict");

describe("gpu-claim-conflict", () => {
  it("opens once, stays open while claims repeat, and closes CLEAR_AFTER_MS after the last one", () => {
    h = harness();
    for (let i = 0; i < 10; i++) h.engine.onClaims([refused("GPU-x")], T0 + i * 60_000);
    expect(kinds("opened")).toHaveLength(1);
    expect(kinds("opened")[0]?.flag).toMatchObject({
      host: "node-b",
      gpuUuid: "GPU-x",
      severity: "warning",
      values: { owner: "node-a" },
    });
    expect(kinds("opened")[0]?.flag.reason).toMatch(/gputel collector approve-move GPU-x --to node-b/);
    const last = T0 + 9 * 60_000;
    h.engine.tick(last + CLEAR_AFTER_MS - 1);
    expect(kinds("closed")).toHaveLength(0);
    h.engine.tick(last + CLEAR_AFTER_MS);
    expect(kinds("closed")).toHaveLength(1);
    expect(kinds("closed")[0]?.flag.endMs).toBe(last);
  });

  it("closes at once when the move is accepted", () => {
    h = harness();
    h.engine.onClaims([refused("GPU-y")], T0);
    h.engine.onClaims(
      [{ type: "moved", host: "node-b", uuid: "GPU-y", index: 0, from: "node-a", reason: "approved" }],
      T0 + 1000,
    );
    expect(kinds("closed")[0]?.flag).toMatchObject({
      endMs: T0 + 1000,
      reason: "GPU GPU-y moved from node-a to node-b (approved)",
    });
    expect(h.engine.openFlags({})).toEqual([]);
  });

  it("opens at most 64 per claiming host, however many GPUs it names", () => {
    h = harness();
    h.engine.onClaims(
      Array.from({ length: 200 }, (_, i) => refused(`GPU-${i}`)),
      T0,
    );
    h.engine.onClaims([refused("GPU-other", "node-c")], T0);
    expect(h.engine.openFlags({}).filter((f) => f.host === "node-b")).toHaveLength(64);
    expect(h.engine.openFlags({}).filter((f) => f.host === "node-c")).toHaveLength(1);
  });
});
