// /metrics and remote_write within common label limits and Prometheus naming: the labels of
// every series are counted (Mimir and Cortex refuse more than 30 names per series by default;
// a scrape adds job and instance), including for an agent that sends the 32 labels ingest
// accepts; counters end in _total, unit-bearing metrics name their base unit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderMetrics } from "../../collector/exposition/prometheus.js";
import { gpuLabels as remoteWriteLabels } from "../../collector/remote-write/series.js";
import { METRICS } from "../../shared/metrics.js";
import { MAX_EXPORTED_AGENT_LABELS } from "../../shared/prom-labels.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

// 5 identity labels + the agent labels + `state` + `__name__`, plus job and instance from the scrape.
const MAX_LABELS_PER_SERIES = 5 + MAX_EXPORTED_AGENT_LABELS + 1 + 1 + 2;
const BASE_UNITS: Record<string, string> = {
  "%": "_ratio",
  MiB: "_bytes",
  "°C": "_celsius",
  W: "_watts",
  MHz: "_hertz",
};

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
});
afterAll(async () => {
  await api?.close();
});

interface Series {
  name: string;
  labels: string[];
}

/** The series of an exposition: metric name and label names (values may hold commas and quotes). */
function parseSeries(text: string): Series[] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const brace = line.indexOf("{");
      if (brace < 0) return { name: line.slice(0, line.indexOf(" ")), labels: [] };
      const names = [...line.slice(brace).matchAll(/[{,]([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)].map(
        (m) => m[1] as string,
      );
      return { name: line.slice(0, brace), labels: names };
    });
}

function manyLabels(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(2, "0")}`, `v${i}`]));
}

describe("label bounds", () => {
  it("every series of the live /metrics is within the bound, with unique label names", async () => {
    const series = parseSeries((await api.get("/metrics")).text);
    expect(series.length).toBeGreaterThan(50);
    for (const s of series) {
      expect(s.labels.length + 1, s.name).toBeLessThanOrEqual(MAX_LABELS_PER_SERIES - 2);
      expect(new Set(s.labels).size, s.name).toBe(s.labels.length);
    }
  });

  it("an agent with the 32 labels ingest accepts exports the first 16 by key, on /metrics and remote_write", () => {
    const snap = api.fleet.backend.metricsSnapshot();
    const first = snap.gpus[0];
    if (!first) throw new Error("fixture has no GPU");
    const labels = manyLabels(32);
    const text = renderMetrics({ ...snap, gpus: [{ ...first, labels }] }, api.fleet.nowMs);
    const gpuSeries = parseSeries(text).filter((s) => s.name.startsWith("gputel_gpu_"));
    expect(gpuSeries.length).toBeGreaterThan(10);
    const expected = Array.from({ length: 16 }, (_, i) => `label_k${String(i).padStart(2, "0")}`);
    for (const s of gpuSeries) {
      expect(
        s.labels.filter((l) => l.startsWith("label_")),
        s.name,
      ).toEqual(expected);
      expect(s.labels.length + 1 + 2, s.name).toBeLessThanOrEqual(MAX_LABELS_PER_SERIES);
    }
    const rw = remoteWriteLabels({ host: "h", index: 0, uuid: "GPU-1", model: "m", site: "s", labels });
    expect(rw.filter((l) => l.name.startsWith("label_")).map((l) => l.name)).toEqual(expected);
  });

  it("/metrics and remote_write name an agent label alike", () => {
    const labels = { "rack-id": "r1", "9lives": "x" };
    const snap = api.fleet.backend.metricsSnapshot();
    const first = snap.gpus[0];
    if (!first) throw new Error("fixture has no GPU");
    const text = renderMetrics({ ...snap, gpus: [{ ...first, labels }] }, api.fleet.nowMs);
    const rw = remoteWriteLabels({ host: "h", index: 0, uuid: "GPU-1", model: "m", site: "s", labels });
    const names = rw.filter((l) => l.name.startsWith("label_")).map((l) => l.name);
    expect(names).toEqual(["label_9lives", "label_rack_id"]);
    for (const name of names) expect(text).toContain(`${name}="`);
  });
});

describe("Prometheus naming", () => {
  it("counters end in _total and only counters do; histograms are in seconds", async () => {
    const text = (await api.get("/metrics")).text;
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(
      (m) => [m[1] as string, m[2] as string] as const,
    );
    expect(types.length).toBeGreaterThan(10);
    for (const [name, type] of types) {
      expect(name).toMatch(/^gputel_[a-z0-9_]+$/);
      expect(name.endsWith("_total"), name).toBe(type === "counter");
      if (type === "histogram") expect(name).toMatch(/_seconds$/);
    }
  });

  it("every catalogue metric with a unit names its base unit; only its counters end in _total", () => {
    for (const m of METRICS) {
      const suffix = BASE_UNITS[m.unit];
      if (suffix) expect(m.prom.name.endsWith(suffix), m.prom.name).toBe(true);
      expect(m.prom.name.endsWith("_total"), m.prom.name).toBe(m.prom.type === "counter");
    }
  });
});
