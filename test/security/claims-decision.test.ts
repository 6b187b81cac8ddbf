// The claim decision (pure, property-tested) and the three ways a GPU really moves, through the
// real ingest pipeline and Store on a SQLite file with a fake clock: the owner went silent past
// limits.gpu_move_hold, an operator approved it (the CLI's database write), and two hosts naming
// a new GPU in one batch (the first keeps it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { decideClaim } from "../../collector/ingest/claims.js";
import { DEFAULT_LIMITS } from "../../collector/ingest/limits.js";
import { IngestPipeline } from "../../collector/ingest/pipeline.js";
import { approveGpuMove } from "../../collector/store/approvals.js";
import { Store } from "../../collector/store/store.js";
import { silentLogger } from "../../shared/logger.js";
import { topicFor } from "../../shared/topics.js";
import { batchOf } from "./attack-parts.js";

const HOLD = 10 * 60_000;

describe("decideClaim", () => {
  it("accepts exactly: approved for this host, not in the owner's inventory, or the owner silent past the hold", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("node-b", "node-c", undefined),
        fc.constantFrom(true, false, undefined),
        fc.integer({ min: -HOLD, max: 3 * HOLD }),
        (approvedTo, inOwnerInventory, silentMs) => {
          const nowMs = 1_800_000_000_000;
          const decision = decideClaim({
            claimant: "node-b",
            owner: { host: "node-a", hostLastSeenMs: nowMs - silentMs, inOwnerInventory },
            approvedTo,
            nowMs,
            holdMs: HOLD,
          });
          const expected =
            approvedTo === "node-b"
              ? "approved"
              : inOwnerInventory === false
                ? "not_in_owner_inventory"
                : silentMs > HOLD
                  ? "owner_gone"
                  : undefined;
          expect(decision.accept ? decision.reason : undefined).toBe(expected);
          if (!decision.accept) expect(decision.detail).toMatch(/^held by node-a/);
        },
      ),
    );
  });
});

describe("GPU moves through the pipeline and the store", () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function setUp() {
    const dir = mkdtempSync(join(tmpdir(), "gputel-claims-"));
    const path = join(dir, "collector.db");
    const store = Store.open(path);
    let now = Date.now();
    const pipeline = new IngestPipeline({
      sink: store,
      fleet: store.fleet,
      logger: silentLogger(),
      now: () => now,
      limits: { ...DEFAULT_LIMITS, gpuMoveHoldMs: HOLD },
    });
    pipeline.start();
    cleanups.push(async () => {
      await pipeline.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const owner = (uuid: string) => store.latest().find((g) => g.uuid === uuid)?.host;
    const history = (uuid: string) =>
      store.db
        .prepare(
          "SELECT h.name AS host, i.move_reason AS reason FROM gpu_inventory i JOIN gpus g ON g.id = i.gpu_id JOIN hosts h ON h.id = i.host_id WHERE g.uuid = ? ORDER BY i.id",
        )
        .all(uuid);
    const send = (host: string, seq: number, gpus: Record<string, number>) =>
      pipeline.submit(topicFor(host, "frame"), batchOf(host, seq, gpus), undefined);
    return { path, store, pipeline, owner, history, send, advance: (ms: number) => (now += ms) };
  }

  it("moves a GPU once its owner has been silent past the hold, and records why", async () => {
    const t = setUp();
    await t.send("node-a", 1, { "GPU-x": 40 });
    t.advance(HOLD - 1000);
    const refused = await t.send("node-b", 1, { "GPU-x": 50 });
    expect(refused.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
    expect(t.owner("GPU-x")).toBe("node-a");
    t.advance(2000);
    const accepted = await t.send("node-b", 2, { "GPU-x": 50 });
    expect(accepted).toEqual({ stored: true, rejections: [] });
    expect(t.owner("GPU-x")).toBe("node-b");
    // No inventory was ever sent: the move opens the GPU's first history row.
    expect(t.history("GPU-x")).toEqual([{ host: "node-b", reason: "owner_gone" }]);
  });

  it("moves a live host's GPU once an operator approved it, and only to the approved host", async () => {
    const t = setUp();
    await t.send("node-a", 1, { "GPU-y": 40 });
    const { owner } = approveGpuMove(t.path, "GPU-y", "node-b", Date.now());
    expect(owner).toBe("node-a");
    const other = await t.send("node-c", 1, { "GPU-y": 50 });
    expect(other.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
    const approved = await t.send("node-b", 1, { "GPU-y": 50 });
    expect(approved.rejections).toEqual([]);
    expect(t.owner("GPU-y")).toBe("node-b");
    expect(t.history("GPU-y")).toEqual([{ host: "node-b", reason: "approved" }]);
    // The approval is used up: the old owner cannot take it straight back either.
    expect(t.store.db.prepare("SELECT count(*) FROM gpu_move_approvals").pluck().get()).toBe(0);
    const back = await t.send("node-a", 2, { "GPU-y": 40 });
    expect(back.rejections.map((r) => r.reason)).toEqual(["gpu_claimed_by_other_host"]);
  });

  it("gives a new GPU named by two hosts in one batch to the first; the second keeps its own GPUs", async () => {
    const t = setUp();
    const [first, second] = await Promise.all([
      t.send("node-a", 1, { "GPU-z": 40 }),
      t.send("node-b", 1, { "GPU-z": 50, "GPU-b0": 51 }),
    ]);
    expect(first.rejections).toEqual([]);
    expect(second).toMatchObject({ stored: true, rejections: [{ reason: "gpu_claimed_by_other_host" }] });
    expect(t.owner("GPU-z")).toBe("node-a");
    expect(t.owner("GPU-b0")).toBe("node-b");
  });
});
