// The remote_write exporter against a loopback receiver that decodes with remote.proto: the
// wire format and headers, batch bounds, absent values, backlog batches, retry on 5xx/429 only,
// drops on other 4xx, and the persistent cursor across a restart.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { RemoteWriteExporter } from "../../collector/remote-write/exporter.js";
import { classify } from "../../collector/remote-write/sender.js";
import { type Entry, planBatches } from "../../collector/remote-write/series.js";
import { encodeWriteRequest } from "../../collector/remote-write/wire.js";
import { scaleSample } from "../../collector/store/sample.js";
import { Store } from "../../collector/store/store.js";
import { backoffMs } from "../../shared/backoff.js";
import { silentLogger } from "../../shared/logger.js";
import { gpuSample, makeFrame } from "../collector/ingest/frames.js";
import { tempDir } from "./helpers.js";
import { decodeBody, type Receiver, startReceiver, WriteRequest } from "./receiver.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const T0 = Date.now() - 600_000;

function frames(host: string, seqs: number[], gpus = 2): ValidFrame[] {
  return seqs.map((seq) => makeFrame(host, seq, { gpus, timestampMs: T0 + seq * 1000 }) as ValidFrame);
}

async function setup(script: number[] = []) {
  const tmp = await tempDir("gputel-rw-");
  const receiver = await startReceiver();
  receiver.script.push(...script);
  const path = join(tmp.dir, "c.db");
  let store = Store.open(path);
  let exporter: RemoteWriteExporter | undefined;
  const start = (batchSamples = 1000) => {
    exporter = new RemoteWriteExporter({
      url: receiver.url,
      tenant: "team-a",
      headers: { Authorization: "Bearer t0ken" },
      batchSamples,
      intervalMs: 60_000,
      minBackoffMs: 5,
      maxBackoffMs: 20,
      store,
      logger: silentLogger(),
    });
    exporter.start();
    return exporter;
  };
  const restart = async () => {
    await exporter?.stop();
    store.close();
    store = Store.open(path);
    return start();
  };
  cleanups.push(async () => {
    await exporter?.stop();
    store.close();
    await receiver.stop();
    await tmp.remove();
  });
  return { receiver, store: () => store, start, restart };
}

/** Every sample the receiver accepted, per series name and uuid, as [timestamp, value]. */
function byName(receiver: Receiver, name: string, uuid: string): [number, number][] {
  const out: [number, number][] = [];
  for (const r of receiver.requests) {
    if (r.status >= 300) continue;
    for (const s of r.series) {
      const l = Object.fromEntries(s.labels.map((x) => [x.name, x.value]));
      if (l.__name__ === name && l.uuid === uuid) for (const p of s.samples) out.push([p.timestamp, p.value]);
    }
  }
  return out;
}

describe("remote-write wire", () => {
  it("encodes a WriteRequest that remote.proto decodes, labels and samples intact", () => {
    const series = [
      {
        labels: [
          { name: "__name__", value: "gputel_gpu_power_draw_watts" },
          { name: "host", value: "h1" },
        ],
        timestamps: [1_700_000_000_123, 1_700_000_001_123],
        values: [512.5, Number.NaN],
      },
    ];
    const decoded = WriteRequest.toObject(WriteRequest.decode(encodeWriteRequest(series)), { longs: Number });
    expect(decoded).toEqual({
      timeseries: [
        {
          labels: series[0]?.labels,
          samples: [
            { value: 512.5, timestamp: 1_700_000_000_123 },
            { value: Number.NaN, timestamp: 1_700_000_001_123 },
          ],
        },
      ],
    });
  });

  it("classifies answers: 2xx sent, 5xx/429/no answer retried, other 4xx dropped", () => {
    expect([200, 204, 429, 500, 503, 0, 400, 401, 404, 413].map(classify)).toEqual([
      "sent",
      "sent",
      "retry",
      "retry",
      "retry",
      "retry",
      "drop",
      "drop",
      "drop",
      "drop",
    ]);
    expect([0, 1, 2, 10].map((a) => backoffMs(a, 500, 30_000))).toEqual([500, 1000, 2000, 30_000]);
  });

  it("plans bounded batches, sorted labels, absent values left out, backlog apart and oldest first", () => {
    const sample = (ts: number, util: number | undefined) => ({
      ts,
      intervalMs: 1000,
      state: 1,
      vals: scaleSample(gpuSample(0, { utilization_gpu_pct: util, power_draw_watts: 300 })),
    });
    const identity = () => ({
      host: "h1",
      index: 0,
      uuid: "GPU-1",
      model: "H100",
      site: "",
      labels: { "lease.id": "L-7" },
    });
    const lastSent = new Map<number, number>();
    const first: Entry[] = [10_000, 11_000].map((ts) => ({ gpuId: 1, sample: sample(ts, 50) }));
    planBatches(first, identity, lastSent, 5);
    expect(lastSent.get(1)).toBe(11_000);
    const mixed: Entry[] = [
      { gpuId: 1, sample: sample(12_000, undefined) },
      { gpuId: 1, sample: sample(9_000, 7) },
      { gpuId: 1, sample: sample(8_000, 6) },
    ];
    const { batches } = planBatches(mixed, identity, lastSent, 5);
    expect(batches.every((b) => b.samples <= 5)).toBe(true);
    const backlog = batches.filter((b) => b.backlog);
    const live = batches.filter((b) => !b.backlog);
    expect(batches.indexOf(backlog[0] as never)).toBe(0);
    const utilOf = (bs: typeof batches) =>
      bs.flatMap((b) =>
        b.series
          .filter((s) => s.labels.some((l) => l.value === "gputel_gpu_utilization_ratio"))
          .flatMap((s) => s.timestamps.map((t, i) => [t, s.values[i]])),
      );
    expect(utilOf(backlog)).toEqual([
      [8_000, 0.06],
      [9_000, 0.07],
    ]);
    // The live sample had no utilization: no sample at all, never 0.
    expect(utilOf(live)).toEqual([]);
    const labels = batches[0]?.series[0]?.labels.map((l) => l.name) ?? [];
    expect(labels).toEqual([...labels].sort());
    expect(labels).toContain("label_lease_id");
    expect(labels).not.toContain("site"); // empty value: left out
  });

  it("sends each value as /metrics exposes it: 35 % is 0.35 and 612.05 W is 612.05, without float noise", () => {
    const identity = () => ({ host: "h1", index: 0, uuid: "GPU-1", model: "H100", site: "", labels: {} });
    const entries: Entry[] = Array.from({ length: 101 }, (_, pct) => ({
      gpuId: 1,
      sample: {
        ts: 10_000 + pct * 1000,
        intervalMs: 1000,
        state: 1,
        vals: scaleSample(gpuSample(0, { utilization_gpu_pct: pct, power_draw_watts: 612.05 })),
      },
    }));
    const { batches } = planBatches(entries, identity, new Map(), 10_000);
    const values = (name: string) =>
      batches.flatMap((b) =>
        b.series.filter((s) => s.labels.some((l) => l.value === name)).flatMap((s) => s.values),
      );
    expect(values("gputel_gpu_utilization_ratio")).toEqual(
      Array.from({ length: 101 }, (_, pct) => Number((pct / 100).toFixed(2))),
    );
    expect(new Set(values("gputel_gpu_power_draw_watts"))).toEqual(new Set([612.05]));
  });
});

describe("remote-write exporter", () => {
  it("sends every committed sample once with the required headers, in bounded batches", async () => {
    const t = await setup();
    const exporter = t.start(50);
    t.store().writeFrames(frames("h1", [1, 2, 3, 4, 5]), Date.now());
    await exporter.drained();
    const r = t.receiver.requests[0];
    expect(r?.headers["content-encoding"]).toBe("snappy");
    expect(r?.headers["content-type"]).toBe("application/x-protobuf");
    expect(r?.headers["x-prometheus-remote-write-version"]).toBe("0.1.0");
    expect(r?.headers["user-agent"]).toMatch(/^gputel\//);
    expect(r?.headers["x-scope-orgid"]).toBe("team-a");
    expect(r?.headers.authorization).toBe("Bearer t0ken");
    for (const req of t.receiver.requests) {
      expect(req.series.reduce((n, s) => n + s.samples.length, 0)).toBeLessThanOrEqual(50);
    }
    const uuid = gpuSample(1).uuid as string;
    expect(byName(t.receiver, "gputel_gpu_power_draw_watts", uuid)).toEqual(
      [1, 2, 3, 4, 5].map((s) => [T0 + s * 1000, 512.5]),
    );
    expect(byName(t.receiver, "gputel_gpu_memory_used_bytes", uuid)[0]?.[1]).toBe(60_000 * 2 ** 20);
    expect(exporter.stats()).toMatchObject({ pendingRows: 0, batchesDropped: 0 });
  });

  it("retries 503 and 429 with backoff, drops a 400 batch and counts it", async () => {
    const t = await setup([503, 429]);
    const exporter = t.start();
    t.store().writeFrames(frames("h1", [1, 2]), Date.now());
    await exporter.drained();
    expect(t.receiver.requests.map((r) => r.status)).toEqual([503, 429, 204]);
    expect(exporter.stats()).toMatchObject({ retries: 2, batchesSent: 1, batchesDropped: 0 });

    t.receiver.script.push(400);
    t.store().writeFrames(frames("h1", [3]), Date.now());
    await exporter.drained();
    t.store().writeFrames(frames("h1", [4]), Date.now());
    await exporter.drained();
    expect(t.receiver.requests.map((r) => r.status)).toEqual([503, 429, 204, 400, 204]);
    const stats = exporter.stats();
    expect(stats.batchesDropped).toBe(1);
    expect(stats.samplesDropped).toBeGreaterThan(0);
    expect(stats.lastError).toContain("400");
  });

  it("resumes at the persistent cursor after a restart: nothing sent twice, nothing lost", async () => {
    const t = await setup();
    const first = t.start();
    t.store().writeFrames(frames("h1", [1, 2, 3]), Date.now());
    await first.drained();
    const before = t.receiver.requests.length;
    const exporter = await t.restart();
    await exporter.drained();
    expect(t.receiver.requests.length).toBe(before); // the cursor survived: nothing re-sent
    t.store().writeFrames(frames("h1", [4, 5]), Date.now());
    await exporter.drained();
    const uuid = gpuSample(0).uuid as string;
    const times = byName(t.receiver, "gputel_gpu_temperature_celsius", uuid).map(([ts]) => ts);
    expect(times).toEqual([1, 2, 3, 4, 5].map((s) => T0 + s * 1000));
    // Duplicates are not re-exported: the store's idempotence decides what is new.
    t.store().writeFrames(frames("h1", [5]), Date.now());
    await exporter.drained();
    expect(byName(t.receiver, "gputel_gpu_temperature_celsius", uuid)).toHaveLength(5);
  });

  it("stops capturing when remote_write is switched off", async () => {
    const t = await setup();
    RemoteWriteExporter.disable(t.store());
    t.store().writeFrames(frames("h1", [1]), Date.now());
    const n = t.store().db.prepare("SELECT count(*) AS n FROM remote_write_log").get() as { n: number };
    expect(n.n).toBe(0);
    expect(decodeBody).toBeTypeOf("function");
  });
});
