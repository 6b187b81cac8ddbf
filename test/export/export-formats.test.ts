// The three export formats over a real store (export-fixture.ts): every stored sample comes out
// once, in time order per series, with the /metrics names and units; absent values come out
// absent; rollup tiers carry min/max/avg/last under their own names; label values are escaped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RAW_TIER, rollupTier } from "../../collector/export/columns.js";
import { exportChunks } from "../../collector/export/export-stream.js";
import { openMetricsTimestamp } from "../../collector/export/format-openmetrics.js";
import { StoreExportSource } from "../../collector/export/store-source.js";
import { csvCell } from "../../shared/csv.js";
import { METRICS } from "../../shared/metrics.js";
import { type ExportFixture, expectedRaw, exportFixture, exposed } from "./export-fixture.js";

let fx: ExportFixture;
beforeAll(() => {
  fx = exportFixture();
}, 60_000);
afterAll(() => fx?.close());

async function exportText(
  format: "openmetrics" | "vm-jsonl" | "csv",
  tier = RAW_TIER,
  range?: { fromMs: number; toMs: number },
): Promise<string> {
  let text = "";
  const request = { fromMs: fx.startMs, toMs: fx.endMs + 60_000, ...range, tier, format, gpus: fx.gpus };
  for await (const chunk of exportChunks(new StoreExportSource(fx.store), request)) text += chunk;
  return text;
}

describe("vm-jsonl", () => {
  it("holds every stored sample once, in time order, named and scaled as on /metrics", async () => {
    const got = new Map<string, [number, number][]>();
    for (const line of (await exportText("vm-jsonl")).trimEnd().split("\n")) {
      const o = JSON.parse(line) as {
        metric: Record<string, string>;
        values: number[];
        timestamps: number[];
      };
      expect(o.values).toHaveLength(o.timestamps.length);
      const key = `${o.metric.__name__} ${o.metric.uuid}`;
      const list = got.get(key) ?? [];
      for (const [i, t] of o.timestamps.entries()) list.push([t, o.values[i] as number]);
      got.set(key, list);
    }
    const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [key, list] of want) expect(got.get(key), key).toEqual(list);
    // The replayed backlog and the unsealed tail are in: 150 minutes of 1 s samples per GPU.
    expect(want.get(`gputel_gpu_power_limit_watts ${fx.gpus[1]?.uuid}`)).toHaveLength(150 * 60);
  });
});

describe("openmetrics", () => {
  it("groups each family, ends with # EOF, escapes labels and leaves absent values out", async () => {
    const text = await exportText("openmetrics");
    expect(text.endsWith("# EOF\n")).toBe(true);
    const lines = text.trimEnd().split("\n");
    const types = lines.filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
    // Families in one block each: a name never comes back after another started.
    const order = lines.filter((l) => !l.startsWith("#")).map((l) => l.slice(0, l.indexOf("{")));
    const blocks = order.filter((name, i) => name !== order[i - 1]);
    expect(new Set(blocks).size).toBe(blocks.length);
    expect(text).toContain(`label_team="a,\\"b\\"\\\\c"`);
    const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
    const samples = [...want.values()].reduce((n, l) => n + l.length, 0);
    expect(order).toHaveLength(samples);
    // A board without a fan reports none: no fan series for it, not zeros.
    const fanless = fx.gpus.filter((g) => !want.has(`gputel_gpu_fan_speed_ratio ${g.uuid}`));
    expect(fanless.length).toBeGreaterThan(0);
    for (const g of fanless)
      expect(text).not.toMatch(new RegExp(`gputel_gpu_fan_speed_ratio\\{[^}]*uuid="${g.uuid}"`));
  });

  it("writes exact millisecond timestamps in seconds", () => {
    expect(openMetricsTimestamp(1_767_225_600_002)).toBe("1767225600.002");
    expect(openMetricsTimestamp(1_767_225_601_120)).toBe("1767225601.120");
  });
});

describe("csv", () => {
  it("has units in the header, one row per GPU and timestamp, and empty cells for absent values", async () => {
    const rows = (await exportText("csv")).trimEnd().split("\n");
    const header = (rows[0] as string).split(",");
    expect(header.slice(0, 7)).toEqual(["time", "timestamp_ms", "host", "gpu", "uuid", "model", "site"]);
    expect(header).toContain("gputel_gpu_power_draw_watts");
    expect(header).toContain("gputel_gpu_memory_used_bytes");
    expect(header).toContain("label_team");
    expect(header).toContain("interval_ms");
    const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
    const timestamps = new Set<string>();
    for (const [key, list] of want) for (const [t] of list) timestamps.add(`${key.split(" ")[1]} ${t}`);
    expect(rows.length - 1).toBe(timestamps.size);
    // Host 0's rows quote the label value (RFC 4180); values match the store.
    expect(rows.some((r) => r.includes(`"a,""b""\\c"`))).toBe(true);
    // The label cell is quoted, so a row has one more comma-split cell before the values.
    const power = header.indexOf("gputel_gpu_power_draw_watts");
    const uuid = fx.gpus.find((g) => g.labels.team !== undefined)?.uuid ?? "";
    const first = want.get(`gputel_gpu_power_draw_watts ${uuid}`)?.[0] as [number, number];
    const row = rows.find((r) => r.includes(`,${first[0]},`) && r.includes(uuid)) as string;
    expect(row).toBeDefined();
    expect(Number(row.split(",")[power + 1])).toBe(first[1]);
  });

  it("guards cells a spreadsheet would run as formulas and quotes separators", () => {
    expect(csvCell("=cmd()")).toBe("'=cmd()");
    expect(csvCell("@x")).toBe("'@x");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell("plain")).toBe("plain");
  });
});

describe("rollup tiers", () => {
  it("exports min, max, avg and last per bucket under their own names, equal to store.series()", async () => {
    const tier = rollupTier(60_000);
    const lines = (await exportText("vm-jsonl", tier)).trimEnd().split("\n");
    const names = new Set(
      lines.map((l) => (JSON.parse(l) as { metric: { __name__: string } }).metric.__name__),
    );
    expect(names).toContain("gputel_gpu_power_draw_watts:avg_1m");
    expect(names).toContain("gputel_gpu_power_draw_watts:max_1m");
    for (const n of names) expect(n).toMatch(/^gputel_gpu_[a-z_]+:(min|max|avg|last)_1m$/);
    const uuid = fx.gpus[0]?.uuid ?? "";
    const series = fx.store.series(uuid, ["power_draw_watts"], fx.startMs, fx.endMs, 60_000);
    const got = lines
      .map((l) => JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] })
      .filter((o) => o.metric.uuid === uuid && o.metric.__name__ === "gputel_gpu_power_draw_watts:max_1m")
      .flatMap((o) => o.timestamps.map((t, i) => [t, o.values[i]]));
    const power = METRICS.find((m) => m.key === "power_draw_watts");
    const want = series.t.flatMap((t, k) => {
      const v = series.metrics.power_draw_watts?.max[k];
      return v === null || v === undefined
        ? []
        : [[t, exposed(Math.round(v * (power?.scale ?? 1)) * (power?.prom.factor ?? 1))]];
    });
    expect(got).toEqual(want);
    expect(got.length).toBe(150);
  });

  it("leaves buckets with no value out of CSV rows", async () => {
    const rows = (await exportText("csv", rollupTier(3_600_000))).trimEnd().split("\n");
    // 150 minutes: buckets 00:00, 01:00 and 02:00 for each of 4 GPUs.
    expect(rows.length - 1).toBe(3 * fx.gpus.length);
  });
});

describe("an export running while the store seals", () => {
  it("holds every sample once when windows are sealed between two slices", async () => {
    const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
    const unsealed = fx.store.stats().recentRows;
    expect(unsealed).toBeGreaterThan(0);
    const chunks = exportChunks(new StoreExportSource(fx.store), {
      fromMs: fx.startMs,
      toMs: fx.endMs + 60_000,
      tier: RAW_TIER,
      format: "vm-jsonl",
      gpus: fx.gpus,
    });
    let text = "";
    let sealed = false;
    for await (const chunk of chunks) {
      text += chunk;
      if (!sealed) {
        // Every unsealed sample moves into a block while the export is under way.
        fx.store.sealAll();
        sealed = true;
      }
    }
    expect(fx.store.stats().recentRows).toBe(0);
    const got = new Map<string, [number, number][]>();
    for (const line of text.trimEnd().split("\n")) {
      const o = JSON.parse(line) as {
        metric: Record<string, string>;
        values: number[];
        timestamps: number[];
      };
      const key = `${o.metric.__name__} ${o.metric.uuid}`;
      const list = got.get(key) ?? [];
      for (const [i, t] of o.timestamps.entries()) list.push([t, o.values[i] as number]);
      got.set(key, list);
    }
    for (const [key, list] of want) expect(got.get(key), key).toEqual(list);
  });
});
