// Ingest benchmark (issue 3): realistic frames (bench/synth-fleet.ts, 8 GPUs per host) published
// as QoS 1 by several mqtt.js clients through the EMBEDDED broker on loopback into the real Store
// (SQLite file in a temp dir). A PUBACK from the embedded broker means "committed", so:
//   ingest.samples_per_s  metric values per second, first publish → last PUBACK, publishers as fast
//                         as their in-flight window allows;
//   ingest.lag_p99_ms     publish → PUBACK (≥ publish → commit) p99 at 50 % of that rate;
//   ingest.samples_per_s_replayed  as samples_per_s, but each message a spooled backlog batch
//                         of one host (consecutive frames, cut by the agent's own batch plan:
//                         agent/spool/batch-plan.ts defaults), as agents send after an outage.
// The publishers run in a worker thread (the second core), the broker, ingest and SQLite on the
// main thread, as in production where agents are other machines.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_FRAMES, planBatch } from "../agent/spool/batch-plan.js";
import { EmbeddedBroker } from "../collector/broker/embedded.js";
import { IngestPipeline } from "../collector/ingest/pipeline.js";
import type { EventWriteResult, IngestSink, WriteResult } from "../collector/ingest/sink.js";
import { Store } from "../collector/store/store.js";
import { encodeFrame, encodeFrameBatch, encodeFrameBatchFromEncoded } from "../shared/codec.js";
import { silentLogger } from "../shared/logger.js";
import { METRICS } from "../shared/metrics.js";
import { SCHEMA_VERSION } from "../shared/proto.js";
import { topicFor } from "../shared/topics.js";
import type { BenchFigure } from "./common.js";
import { SynthFleet, type SynthFrame } from "./synth-fleet.js";

interface Message {
  topic: string;
  payload: Uint8Array;
}

interface PublishResult {
  elapsedMs: number;
  lagsMs: number[];
  errors: number;
}

function presentValues(frame: SynthFrame): number {
  let n = 0;
  for (const gpu of frame.gpus) {
    const values = gpu as Record<string, unknown>;
    for (const metric of METRICS) if (values[metric.key] !== null && values[metric.key] !== undefined) n += 1;
  }
  return n;
}

// Plain CommonJS so the worker needs no TypeScript loader; mqtt is resolved here, from this file.
const PUBLISHER = `
const { parentPort, workerData } = require("node:worker_threads");
const mqtt = require(workerData.mqttPath);
(async () => {
  const { url, messages, publishers, window, ratePerS } = workerData;
  const clients = await Promise.all(Array.from({ length: publishers }, (_, i) =>
    mqtt.connectAsync(url, { protocolVersion: 5, clientId: "bench-" + i + "-" + Date.now() })));
  const lags = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  // Paced mode: message i is due at started + i / rate; unpaced: as fast as the windows allow.
  const dueAt = (i) => (ratePerS > 0 ? started + (i * 1000) / ratePerS : 0);
  async function run(client) {
    const inflight = new Set();
    while (next < messages.length) {
      const i = next++;
      const wait = dueAt(i) - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const sent = performance.now();
      const p = client.publishAsync(messages[i].topic, Buffer.from(messages[i].payload), { qos: 1 }).then(
        () => { lags.push(performance.now() - sent); },
        () => { errors += 1; },
      ).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }
  await Promise.all(clients.map(run));
  const elapsedMs = performance.now() - started;
  await Promise.all(clients.map((c) => c.endAsync()));
  parentPort.postMessage({ elapsedMs, lagsMs: lags, errors });
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

function publish(url: string, messages: Message[], ratePerS: number): Promise<PublishResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(PUBLISHER, {
      eval: true,
      workerData: {
        url,
        messages,
        publishers: 8,
        window: 256,
        ratePerS,
        mqttPath: createRequire(import.meta.url).resolve("mqtt"),
      },
    });
    worker.once("message", (result: PublishResult & { error?: string }) => {
      void worker.terminate();
      if (result.error) reject(new Error(result.error));
      else resolve(result);
    });
    worker.once("error", reject);
  });
}

/**
 * Frames from..to as agents replay a spooled backlog: per host, consecutive frames in batches
 * cut by the spool's batch plan (its default frame and byte limits), hosts interleaved.
 */
function encodeReplay(
  fleet: SynthFleet,
  from: number,
  to: number,
): { messages: Message[]; values: number; frames: number } {
  const perHost = new Map<string, Uint8Array[]>();
  let values = 0;
  let frames = 0;
  for (const frame of fleet.frames(from, to)) {
    values += presentValues(frame);
    frames += 1;
    const wire = { ...frame, schema_version: SCHEMA_VERSION, agent_version: "bench" };
    let list = perHost.get(frame.host);
    if (!list) {
      list = [];
      perHost.set(frame.host, list);
    }
    list.push(encodeFrame(wire));
  }
  const batches: Message[][] = [];
  for (const [host, encoded] of perHost) {
    const messages: Message[] = [];
    for (let i = 0; i < encoded.length; ) {
      const rest = encoded.slice(i);
      const { count } = planBatch(
        rest.map((e) => e.byteLength),
        { maxFrames: DEFAULT_BATCH_MAX_FRAMES, maxBytes: DEFAULT_BATCH_MAX_BYTES },
      );
      messages.push({
        topic: topicFor(host, "frame"),
        payload: encodeFrameBatchFromEncoded(rest.slice(0, count)),
      });
      i += count;
    }
    batches.push(messages);
  }
  const messages: Message[] = [];
  for (let k = 0; batches.some((b) => k < b.length); k++) {
    for (const b of batches) {
      const m = b[k];
      if (m) messages.push(m);
    }
  }
  return { messages, values, frames };
}

/** Stores nothing: measures broker + decode + validate + batching without SQLite. */
class DiscardSink implements IngestSink {
  writeFrames(frames: readonly unknown[]): WriteResult {
    return { stored: frames.length, duplicates: 0 };
  }
  writeInventory(): void {}
  writeStatus(): void {}
  writeEvents(events: readonly unknown[]): EventWriteResult {
    return { stored: events.length, duplicates: 0, fresh: [] };
  }
  eventHorizonMs(): number {
    return Number.NEGATIVE_INFINITY;
  }
  countReject(): void {}
}

/** Measures the time spent inside the store's writeFrames (the main thread's share for SQLite). */
class TimedSink implements IngestSink {
  writeMs = 0;
  constructor(private readonly inner: IngestSink) {}
  writeFrames(frames: Parameters<IngestSink["writeFrames"]>[0], receivedAtMs: number): WriteResult {
    const t0 = performance.now();
    try {
      return this.inner.writeFrames(frames, receivedAtMs);
    } finally {
      this.writeMs += performance.now() - t0;
    }
  }
  writeInventory(...args: Parameters<IngestSink["writeInventory"]>): void {
    this.inner.writeInventory(...args);
  }
  writeStatus(...args: Parameters<IngestSink["writeStatus"]>): void {
    this.inner.writeStatus(...args);
  }
  writeEvents(...args: Parameters<IngestSink["writeEvents"]>): EventWriteResult {
    return this.inner.writeEvents(...args);
  }
  eventHorizonMs(nowMs: number): number {
    return this.inner.eventHorizonMs(nowMs);
  }
  countReject(...args: Parameters<IngestSink["countReject"]>): void {
    this.inner.countReject(...args);
  }
}

async function withBroker<T>(
  sink: IngestSink,
  run: (url: string, pipeline: IngestPipeline) => Promise<T>,
): Promise<T> {
  const pipeline = new IngestPipeline({ sink, logger: silentLogger(), maxBatchFrames: 4000 });
  const broker = new EmbeddedBroker({ ingest: pipeline, logger: silentLogger(), port: 0 });
  try {
    pipeline.start();
    await broker.start();
    return await run(`mqtt://127.0.0.1:${broker.address().port}`, pipeline);
  } finally {
    await broker.stop();
    await pipeline.stop();
  }
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function benchIngest(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const hosts = size === "full" ? 64 : 8;
  const steps = size === "full" ? 1000 : 250; // frames per host in a throughput run
  const lagSeconds = size === "full" ? 10 : 2;
  const lagSteps = Math.ceil((lagSeconds * 20_000) / hosts); // upper bound for the paced run
  // Timestamps end in the recent past (raw tier); each run gets its own stretch of time.
  const fleet = new SynthFleet({
    hosts,
    gpusPerHost: 8,
    seed: 11,
    startMs: Date.now() - (3 * steps + lagSteps + 60) * 1000,
  });
  const encode = (from: number, to: number) => {
    const messages: Message[] = [];
    let values = 0;
    for (const frame of fleet.frames(from, to)) {
      values += presentValues(frame);
      const wire = { ...frame, schema_version: SCHEMA_VERSION, agent_version: "bench" };
      messages.push({ topic: topicFor(frame.host, "frame"), payload: encodeFrameBatch([wire]) });
    }
    return { messages, values };
  };
  const burst = encode(0, steps);
  const paced = encode(steps, steps + lagSteps);
  const discardBurst = encode(steps + lagSteps, 2 * steps + lagSteps);
  const replay = encodeReplay(fleet, 2 * steps + lagSteps, 3 * steps + lagSteps);

  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-ingest-"));
  const store = Store.open(join(dir, "ingest.db"));
  try {
    const timed = new TimedSink(store);
    const figures = await withBroker(timed, async (url, pipeline) => {
      const fast = await publish(url, burst.messages, 0);
      const storeShare = timed.writeMs / fast.elapsedMs;
      const framesPerS = burst.messages.length / (fast.elapsedMs / 1000);
      const halfRate = framesPerS / 2;
      const lagMessages = paced.messages.slice(0, Math.ceil(halfRate * lagSeconds));
      const slow = await publish(url, lagMessages, halfRate);
      const before = pipeline.snapshot().framesStored;
      const replayed = await publish(url, replay.messages, 0);
      const snapshot = pipeline.snapshot();
      // Every replayed frame stored (none rate-limited or refused), or the figure would flatter.
      if (snapshot.framesStored - before !== replay.frames)
        throw new Error(`replay: ${snapshot.framesStored - before} of ${replay.frames} frames stored`);
      return [
        { name: "ingest.cores", value: cpus().length, unit: "cores" },
        {
          name: "ingest.samples_per_s",
          value: Math.round(burst.values / (fast.elapsedMs / 1000)),
          unit: "samples/s",
        },
        { name: "ingest.frames_per_s", value: Math.round(framesPerS), unit: "frames/s" },
        // Share of the sustained run spent inside Store.writeFrames on the main thread.
        { name: "ingest.store_write_share", value: Math.round(storeShare * 100) / 100, unit: "ratio" },
        { name: "ingest.values_per_frame", value: burst.values / burst.messages.length, unit: "samples" },
        { name: "ingest.lag_p50_ms", value: percentile(slow.lagsMs, 0.5), unit: "ms" },
        { name: "ingest.lag_p99_ms", value: percentile(slow.lagsMs, 0.99), unit: "ms" },
        { name: "ingest.lag_rate_frames_per_s", value: Math.round(halfRate), unit: "frames/s" },
        {
          name: "ingest.samples_per_s_replayed",
          value: Math.round(replay.values / (replayed.elapsedMs / 1000)),
          unit: "samples/s",
        },
        {
          name: "ingest.frames_per_message_replayed",
          value: Math.round((replay.frames / replay.messages.length) * 10) / 10,
          unit: "frames",
        },
        {
          name: "ingest.publish_errors",
          value: fast.errors + slow.errors + replayed.errors,
          unit: "messages",
        },
        { name: "ingest.frames_stored", value: snapshot.framesStored, unit: "frames" },
        { name: "ingest.commits", value: snapshot.commits, unit: "transactions" },
      ];
    });
    // The same path with storage taken out: what the broker and ingest alone sustain.
    const discard = await withBroker(new DiscardSink(), (url) => publish(url, discardBurst.messages, 0));
    figures.push({
      name: "ingest.samples_per_s_discard_sink",
      value: Math.round(discardBurst.values / (discard.elapsedMs / 1000)),
      unit: "samples/s",
    });
    return figures;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
