// `gputel collector approve-move UUID --to HOST` as an operator runs it (the built CLI, a child
// process) against a collector's SQLite file: the approval is written, bad input is refused with
// GPUTEL_E_USAGE, and a database the collector never migrated is refused with a clear message.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IngestPipeline } from "../../collector/ingest/pipeline.js";
import { Store } from "../../collector/store/store.js";
import { silentLogger } from "../../shared/logger.js";
import { topicFor } from "../../shared/topics.js";
import { spawnGputel } from "../helpers/cli.js";
import { batchOf } from "./attack-parts.js";

async function gputel(...args: string[]): Promise<{ code: number | null; output: string }> {
  const run = spawnGputel(["collector", "approve-move", ...args]);
  const code = await run.exited;
  return { code, output: run.output() };
}

describe("gputel collector approve-move", () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-approve-"));
    db = join(dir, "collector.db");
    const store = Store.open(db);
    const pipeline = new IngestPipeline({ sink: store, fleet: store.fleet, logger: silentLogger() });
    pipeline.start();
    await pipeline.submit(topicFor("node-a", "frame"), batchOf("node-a", 1, { "GPU-moved": 40 }), undefined);
    await pipeline.stop();
    store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the approval, naming where the GPU is now", async () => {
    const { code, output } = await gputel(
      "GPU-moved",
      "--to",
      "node-b",
      "--database",
      db,
      "--config",
      "/dev/null",
    );
    expect({ code, output }).toEqual({
      code: 0,
      output: "Approved: GPU GPU-moved may move to node-b (now on node-a).\n",
    });
    const store = Store.open(db);
    try {
      expect(store.db.prepare("SELECT uuid, to_host FROM gpu_move_approvals").all()).toEqual([
        { uuid: "GPU-moved", to_host: "node-b" },
      ]);
    } finally {
      store.close();
    }
  }, 30_000);

  it.each([
    [["GPU moved", "--to", "node-b"], /"GPU moved" is not a GPU UUID/],
    [["GPU-moved"], /--to HOST is required/],
    [["GPU-moved", "--to", "no/such"], /--to: "no\/such" is not a host id/],
    [[], /expected exactly one GPU UUID/],
  ])(
    "refuses %j with GPUTEL_E_USAGE",
    async (args, message) => {
      const { code, output } = await gputel(...args, "--database", db, "--config", "/dev/null");
      expect(code).toBe(64);
      expect(output).toMatch(message);
      expect(output).toMatch(/GPUTEL_E_USAGE/);
    },
    30_000,
  );

  it("refuses a database the collector has not migrated", async () => {
    const other = join(dir, "not-a-collector.db");
    writeFileSync(other, "");
    const { code, output } = await gputel(
      "GPU-moved",
      "--to",
      "node-b",
      "--database",
      other,
      "--config",
      "/dev/null",
    );
    expect(code).toBe(1);
    expect(output).toMatch(
      /has no gpu_move_approvals table: start this collector version once to migrate it/,
    );
  }, 30_000);
});
