import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IngestPipeline, type IngestPipelineOptions } from "../../../collector/ingest/pipeline.js";
import { encodeInventory } from "../../../shared/codec.js";
import { createLogger } from "../../../shared/logger.js";
import { SCHEMA_VERSION } from "../../../shared/proto.js";
import { AgentState, framePayload, frameTopic, statusPayload } from "./frames.js";
import { MemorySink } from "./memory-sink.js";

const H = "node-a";

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({}, { destination, level: "debug" }) };
}

function setup(options: Partial<IngestPipelineOptions> = {}) {
  const sink = new MemorySink();
  const { lines, logger } = logCapture();
  const committed: number[] = [];
  const pipeline = new IngestPipeline({
    sink,
    logger,
    onCommitted: ({ frames }) => {
      if (frames.length > 0) committed.push(frames.length);
    },
    ...options,
  });
  pipeline.start();
  return { sink, pipeline, lines, committed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("IngestPipeline", () => {
  it("resolves submits only after their frames are written, in one batch", async () => {
    const { sink, pipeline, committed } = setup({ maxDelayMs: 5 });
    const pending = [1, 2, 3, 4].map((seq) =>
      pipeline.submit(frameTopic(H), framePayload(H, seq), undefined),
    );
    expect(sink.frames).toHaveLength(0);
    await Promise.all(pending);
    expect(sink.frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(sink.calls).toBe(1);
    expect(committed).toEqual([4]);
    expect(pipeline.snapshot()).toMatchObject({ messages: 4, framesStored: 4, commits: 1, queueDepth: 0 });
    expect(pipeline.snapshot().commitLatencyP99Ms).toBeGreaterThanOrEqual(0);
    await pipeline.stop();
  });

  it("hands inventories, statuses and frames to onCommitted once they are stored, one route for all three", async () => {
    const seen: string[] = [];
    const { sink, pipeline } = setup({
      maxDelayMs: 5,
      onCommitted: ({ inventories, statuses, frames }) => {
        // Each is already in the sink when the hook hears of it.
        for (const i of inventories) seen.push(`inventory ${i.host} stored=${sink.inventories.includes(i)}`);
        for (const s of statuses) seen.push(`status ${s.host} stored=${sink.statuses.includes(s)}`);
        for (const f of frames) seen.push(`frame ${f.seq} stored=${sink.frames.includes(f)}`);
        throw new Error("a failing hook does not undo the commit");
      },
    });
    await Promise.all([
      pipeline.submit(
        `gputel/v1/${H}/inventory`,
        encodeInventory({ schema_version: SCHEMA_VERSION, host: H, timestamp_ms: Date.now() }),
        undefined,
      ),
      pipeline.submit(`gputel/v1/${H}/status`, statusPayload(H, AgentState.AGENT_STATE_ONLINE), undefined),
      pipeline.submit(frameTopic(H), framePayload(H, 1), undefined),
    ]);
    expect(seen).toEqual([`inventory ${H} stored=true`, `status ${H} stored=true`, "frame 1 stored=true"]);
    expect(pipeline.snapshot()).toMatchObject({
      inventories: 1,
      statuses: 1,
      framesStored: 1,
      storeFailures: 0,
    });
    await pipeline.stop();
  });

  it("splits at the batch size and stores duplicates once", async () => {
    const { sink, pipeline } = setup({ maxBatchFrames: 2, maxDelayMs: 200 });
    await Promise.all(
      [1, 2, 3, 3, 4].map((seq) => pipeline.submit(frameTopic(H), framePayload(H, seq), undefined)),
    );
    expect(sink.frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(sink.calls).toBeGreaterThanOrEqual(2);
    expect(pipeline.snapshot()).toMatchObject({ framesStored: 4, framesDuplicate: 1 });
    await pipeline.stop();
  });

  it("stores statuses, counts rejects by reason, logs once per period per host, and keeps serving", async () => {
    const { sink, pipeline, lines } = setup();
    for (let i = 0; i < 5; i++) await pipeline.submit(frameTopic(H), new Uint8Array([1, 2, 3, i]), undefined);
    await pipeline.submit(frameTopic("other"), framePayload(H, 1), undefined);
    await pipeline.submit(
      `gputel/v1/${H}/status`,
      statusPayload(H, AgentState.AGENT_STATE_ONLINE),
      undefined,
    );
    await pipeline.submit(frameTopic(H), framePayload(H, 9), undefined);
    expect(sink.frames.map((f) => f.seq)).toEqual([9]);
    expect(sink.statuses).toHaveLength(1);
    expect(sink.rejects.get(`${H}:decode_error`)).toBe(5);
    expect(sink.rejects.get("other:host_mismatch")).toBe(1);
    expect(pipeline.snapshot().rejects).toEqual({ decode_error: 5, host_mismatch: 1 });
    const rejectLogs = lines.filter((l) => l.code === "GPUTEL_E_INGEST_REJECT");
    expect(rejectLogs.map((l) => l.host)).toEqual([H, "other"]);
    await pipeline.stop();
  });

  it("writes a flood of rejects as one count per host and reason, not one call each", async () => {
    const { sink, pipeline } = setup();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        pipeline.submit(frameTopic(H), new Uint8Array([i % 256]), undefined),
      ),
    );
    await pipeline.submit(frameTopic(H), framePayload(H, 1), undefined);
    expect(sink.rejects.get(`${H}:decode_error`)).toBe(500);
    expect(sink.rejectCalls).toBeLessThan(5);
    await pipeline.stop();
  });

  it("holds back on storage failure, retries the same batch with backoff, and resumes by itself", async () => {
    vi.useFakeTimers();
    const { sink, pipeline, lines } = setup({
      maxDelayMs: 5,
      retryInitialMs: 100,
      retryMaxMs: 1000,
      retryBudgetMs: 60_000,
    });
    sink.failing = true;
    let settled = false;
    const done = pipeline.submit(frameTopic(H), framePayload(H, 1), undefined).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(3000);
    expect(settled).toBe(false);
    expect(sink.calls).toBeGreaterThanOrEqual(4);
    expect(sink.calls).toBeLessThan(10); // backoff, not a busy loop
    expect(pipeline.snapshot().storeFailing).toBe(true);
    expect(lines.filter((l) => l.code === "GPUTEL_E_STORE")).toHaveLength(1);
    const later = pipeline.submit(frameTopic(H), framePayload(H, 2), undefined);
    sink.failing = false;
    await vi.advanceTimersByTimeAsync(1100);
    await Promise.all([done, later]);
    expect(sink.frames.map((f) => f.seq)).toEqual([1, 2]);
    expect(pipeline.snapshot().storeFailing).toBe(false);
    expect(lines.some((l) => l.msg === "Database writable again")).toBe(true);
    await pipeline.stop();
  });

  it("rejects the submits of a batch that failed past the retry budget, then carries on", async () => {
    vi.useFakeTimers();
    const { sink, pipeline } = setup({ retryInitialMs: 50, retryMaxMs: 100, retryBudgetMs: 500 });
    sink.failing = true;
    const first = pipeline.submit(frameTopic(H), framePayload(H, 1), undefined);
    const outcome = first.then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(700);
    expect(await outcome).toMatch(/not acknowledged/);
    expect(sink.frames).toHaveLength(0);
    sink.failing = false;
    const second = pipeline.submit(frameTopic(H), framePayload(H, 2), undefined);
    await vi.advanceTimersByTimeAsync(200);
    await second;
    expect(sink.frames.map((f) => f.seq)).toEqual([2]);
    await pipeline.stop();
  });

  it("stop during a storage retry settles the retried batch as not stored, at once, and commits nothing", async () => {
    vi.useFakeTimers();
    const { sink, pipeline } = setup({
      maxDelayMs: 5,
      retryInitialMs: 10_000,
      retryMaxMs: 10_000,
      retryBudgetMs: 60_000,
    });
    sink.failing = true;
    let outcome: string | undefined;
    void pipeline.submit(frameTopic(H), framePayload(H, 1), undefined).then(
      () => {
        outcome = "resolved";
      },
      (error: Error) => {
        outcome = error.message;
      },
    );
    await vi.advanceTimersByTimeAsync(10); // the first try failed; the retry waits 10 s
    expect(sink.calls).toBe(1);
    // Nothing advances the clock any more: only stop() itself may settle the batch.
    await pipeline.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toMatch(/stopping before commit/);
    expect(sink.calls).toBe(1);
    expect(sink.frames).toHaveLength(0);
  });

  it("refuses at once when the queue is full, and before start", async () => {
    const sink = new MemorySink();
    const idle = new IngestPipeline({ sink, logger: logCapture().logger });
    await expect(idle.submit(frameTopic(H), framePayload(H, 1), undefined)).rejects.toThrow(/not running/);
    const { pipeline } = setup({ maxQueuedMessages: 1, maxDelayMs: 50 });
    const first = pipeline.submit(frameTopic(H), framePayload(H, 1), undefined);
    await expect(pipeline.submit(frameTopic(H), framePayload(H, 2), undefined)).rejects.toThrow(/queue full/);
    await first;
    expect(pipeline.snapshot().overloaded).toBe(1);
    await pipeline.stop();
  });

  it("stop whose last write fails settles that batch as not stored, at once", async () => {
    const { sink, pipeline } = setup({ maxDelayMs: 10_000 });
    const pending = pipeline.submit(frameTopic(H), framePayload(H, 1), undefined);
    // The store fails for the first time in stop()'s own attempt: no retry follows a stop.
    sink.failing = true;
    const settled = pending.then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await pipeline.stop();
    // Whatever stop() settled has settled by the next turn of the event loop.
    const unsettled = new Promise<string>((resolve) => setImmediate(() => resolve("unsettled")));
    expect(await Promise.race([settled, unsettled])).toMatch(/stopping before commit/);
    expect(sink.frames).toHaveLength(0);
  });

  it("commits what waits on stop", async () => {
    const { sink, pipeline } = setup({ maxDelayMs: 10_000 });
    const pending = pipeline.submit(frameTopic(H), framePayload(H, 1), undefined);
    await pipeline.stop();
    await pending;
    expect(sink.frames).toHaveLength(1);
  });
});
