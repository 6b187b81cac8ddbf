// Another process holding the database's write lock (a `sqlite3` shell in a transaction, a CLI
// command writing) must not stall the collector's event loop, which also serves HTTP and keeps
// the MQTT connections alive: ingest's writes give up at once and the pipeline's retry does the
// waiting, on a timer.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import { Store } from "../../../collector/store/store.js";
import { silentLogger } from "../../../shared/logger.js";
import { waitFor } from "../../helpers/net.js";
import { holdWriteLock } from "../../helpers/write-lock.js";
import { framePayload, frameTopic } from "./frames.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a database locked by another process", () => {
  it("does not block the event loop while ingest waits for the lock; the frame is stored once it is free", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gputel-locked-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "gputel.db");
    const store = Store.open(path);
    cleanups.push(() => store.close());
    const pipeline = new IngestPipeline({
      sink: store,
      logger: silentLogger(),
      maxDelayMs: 5,
      retryInitialMs: 50,
      retryMaxMs: 200,
      retryBudgetMs: 60_000,
    });
    pipeline.start();
    cleanups.push(() => pipeline.stop());

    const locker = await holdWriteLock(path);
    cleanups.push(() => locker.release());
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const submitted = pipeline.submit(frameTopic("node-a"), framePayload("node-a", 1), undefined);
    await waitFor(() => pipeline.snapshot().storeFailing, 15_000, "the locked write to fail");
    await locker.release();
    await submitted;
    delay.disable();

    expect(store.frameCount()).toBe(1);
    // Held for the busy timeout, one attempt blocks the loop that long (5 s by default); a
    // generous bound that a loaded machine's scheduling does not reach.
    expect(delay.max / 1e6).toBeLessThan(1000);
  });
});
