import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { metricValue, parseMetricValue, parseValue } from "../../../agent/sources/nvidia-smi/values.js";
import { METRIC_BY_KEY, METRICS, type MetricKey } from "../../../shared/metrics.js";
import { AbsentReason } from "../../../shared/proto.js";
import { CAPTURES, readCapture } from "./capture.js";

const { ABSENT_REASON_UNSUPPORTED: UNSUPPORTED, ABSENT_REASON_ERROR: ERROR } = AbsentReason;
const { ABSENT_REASON_UNPARSEABLE: UNPARSEABLE, ABSENT_REASON_OUT_OF_RANGE: OUT_OF_RANGE } = AbsentReason;
const metric = (key: MetricKey) => METRIC_BY_KEY.get(key)!;

describe("parseValue: no-value spellings are absent with a reason, never 0", () => {
  it.each([
    ["[N/A]", UNSUPPORTED],
    ["N/A", UNSUPPORTED],
    ["[Not Supported]", UNSUPPORTED],
    ["Not Supported", UNSUPPORTED],
    ["[Requested functionality has been deprecated]", UNSUPPORTED],
    ["[Unknown Error]", ERROR],
    ["ERR!", ERROR],
    ["[Insufficient Permissions]", ERROR],
    ["[GPU is lost]", ERROR],
    ["GPU is lost", ERROR],
    ["", UNPARSEABLE],
    ["   ", UNPARSEABLE],
    ["garbage", UNPARSEABLE],
    ["12abc", UNPARSEABLE],
    ["1e5", UNPARSEABLE],
    ["NaN", UNPARSEABLE],
    ["Infinity", UNPARSEABLE],
    ["--", UNPARSEABLE],
  ])("%j → %i for every kind", (raw, reason) => {
    for (const kind of ["int", "float", "bool", "hex", "pstate"] as const) {
      expect(parseValue(raw, kind, 0, 100), kind).toEqual({ ok: false, reason });
    }
  });
});

describe("parseValue: numbers, with or without units", () => {
  it.each([
    ["69.85 W", "float", 69.85],
    ["69.85", "float", 69.85],
    ["700.00 W", "float", 700],
    ["0 us", "int", 0],
    ["81559 MiB", "int", 81559],
    ["81559", "int", 81559],
    ["0 %", "int", 0],
    ["100 %", "int", 100],
    ["41", "int", 41],
    ["41 C", "int", 41],
    ["2619 MHz", "int", 2619],
    [" 7 ", "int", 7],
    ["12.6", "int", 13],
    ["-5", "int", -5],
  ] as const)("%j as %s → %d", (raw, kind, value) => {
    expect(parseValue(raw, kind, -100, 1e6)).toEqual({ ok: true, value });
  });

  it("zero is a value, not an absence", () => {
    expect(parseMetricValue("0", metric("utilization_gpu_pct"))).toEqual({ ok: true, value: 0 });
    expect(parseMetricValue("0 MiB", metric("memory_used_mib"))).toEqual({ ok: true, value: 0 });
  });
});

describe("parseValue: booleans, hex bitmasks, pstates", () => {
  it.each([
    ["Enabled", 1],
    ["Disabled", 0],
    ["Yes", 1],
    ["No", 0],
    ["Active", 1],
    ["Not Active", 0],
    ["enabled", 1],
  ])("bool %j → %d", (raw, value) => {
    expect(parseValue(raw, "bool", 0, 1)).toEqual({ ok: true, value });
  });

  it.each(["Maybe", "1", "Enabledx", "Pending"])("bool %j is unparseable", (raw) => {
    expect(parseValue(raw, "bool", 0, 1)).toEqual({ ok: false, reason: UNPARSEABLE });
  });

  it.each([
    ["0x0000000000000001", 1],
    ["0x0000000000000000", 0],
    ["0x00000000000001FF", 0x1ff],
    ["0x0000000000000044", 0x44],
    ["0x0000000000000004", 4],
  ])("hex %j → %d", (raw, value) => {
    expect(parseMetricValue(raw, metric("clock_event_reasons"))).toEqual({ ok: true, value });
  });

  it("hex beyond 2^53 is out of range rather than silently rounded", () => {
    expect(parseMetricValue("0xFFFFFFFFFFFFFFFF", metric("clock_event_reasons"))).toEqual({
      ok: false,
      reason: OUT_OF_RANGE,
    });
  });

  it.each(["1", "0x", "0xZZ", "44"])("hex %j is unparseable", (raw) => {
    expect(parseMetricValue(raw, metric("clock_event_reasons"))).toEqual({ ok: false, reason: UNPARSEABLE });
  });

  it.each([
    ["P0", 0],
    ["P8", 8],
    ["P12", 12],
  ])("pstate %j → %d", (raw, value) => {
    expect(parseMetricValue(raw, metric("pstate"))).toEqual({ ok: true, value });
  });

  it("pstate P32 is out of range, P and 8 unparseable", () => {
    expect(parseMetricValue("P32", metric("pstate"))).toEqual({ ok: false, reason: OUT_OF_RANGE });
    expect(parseMetricValue("P", metric("pstate"))).toEqual({ ok: false, reason: UNPARSEABLE });
    expect(parseMetricValue("8", metric("pstate"))).toEqual({ ok: false, reason: UNPARSEABLE });
  });
});

describe("parseMetricValue: the catalogue's ranges", () => {
  it.each([
    ["utilization_gpu_pct", "101", OUT_OF_RANGE],
    ["utilization_gpu_pct", "-1", OUT_OF_RANGE],
    ["temperature_gpu_celsius", "151", OUT_OF_RANGE],
    ["temperature_gpu_celsius", "-41", OUT_OF_RANGE],
    ["power_draw_watts", "5000.01 W", OUT_OF_RANGE],
    ["fan_speed_pct", "255 %", OUT_OF_RANGE],
    ["pcie_link_gen", "0", OUT_OF_RANGE],
  ] as const)("%s %j → %i", (key, raw, reason) => {
    expect(parseMetricValue(raw, metric(key))).toEqual({ ok: false, reason });
  });

  it.each([
    ["utilization_gpu_pct", "100", 100],
    ["temperature_gpu_celsius", "-40", -40],
    ["temperature_gpu_tlimit_celsius", "-7", -7],
    ["power_draw_watts", "631.95 W", 631.95],
    ["pcie_link_gen", "5", 5],
  ] as const)("%s %j → %d (range bounds inclusive)", (key, raw, value) => {
    expect(parseMetricValue(raw, metric(key))).toEqual({ ok: true, value });
  });
});

describe("metricValue: the per-frame reading agrees with parseMetricValue", () => {
  // Every CSV cell of every capture, and spellings a number parser could read differently.
  const cells = new Set<string>([
    ...["", " 41 ", "41 C", "69.85 W", "0", "-0", "+.5", "5.", ".", "1e5", "0x1A", "0b1", "0o7"],
    ...["Infinity", "NaN", "1_000", "12345678901234567890123", "9".repeat(400), "-5", "007"],
    ...["[N/A]", "N/A", "[GPU is lost]", "Enabled", "Not Active", "P0", "P15", "0xFFFFFFFFFFFFFFFF"],
  ]);
  for (const file of readdirSync(CAPTURES)) {
    for (const section of readCapture(file)) {
      for (const line of section.output.split("\n")) for (const cell of line.split(", ")) cells.add(cell);
    }
  }

  it("gives the same value, or none where parseMetricValue gives a reason, for every metric", () => {
    expect(cells.size).toBeGreaterThan(500);
    for (const def of METRICS) {
      for (const cell of cells) {
        const parsed = parseMetricValue(cell, def);
        expect(metricValue(cell, def), `${def.key} ${JSON.stringify(cell)}`).toBe(
          parsed.ok ? parsed.value : undefined,
        );
      }
    }
  });
});
