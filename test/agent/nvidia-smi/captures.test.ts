// Every capture in test/fixtures/nvidia-smi/captures/, idle and load: discovery from the capture's
// own --help-query-gpu, the query-gpu CSV (with header and units) read by header names through the
// hot-path parser, and the values compared with the capture's own numbers, written out here.
import { describe, expect, it } from "vitest";
import { parseComputeApps } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import { CsvStream } from "../../../agent/sources/nvidia-smi/csv-stream.js";
import { parseHelpQueryGpu, planQuery } from "../../../agent/sources/nvidia-smi/discovery.js";
import { parseGpuList } from "../../../agent/sources/nvidia-smi/gpu-list.js";
import { METRICS, type MetricKey } from "../../../shared/metrics.js";
import { AbsentReason, GpuState, type IGpuSample } from "../../../shared/proto.js";
import { captureFiles, readCapture, section } from "./capture.js";

const U = AbsentReason.ABSENT_REASON_UNSUPPORTED;
type Values = Partial<Record<MetricKey, number | boolean>>;
type Absent = Partial<Record<MetricKey, number>>;

interface Expected {
  busId: string;
  idle: Values;
  load: Values;
  /** Absent in both phases, with the reason. */
  absent: Absent;
  /** Compute processes in the load phase: count and summed MiB. */
  procs: { count: number; mib: number };
}

const CONSUMER_ABSENT: Absent = {
  temperature_memory_celsius: U,
  temperature_gpu_tlimit_celsius: U,
  ecc_corrected_volatile: U,
  ecc_uncorrected_volatile: U,
  retired_pages_sbe: U,
  retired_pages_dbe: U,
  remapped_rows_correctable: U,
  remapped_rows_uncorrectable: U,
  remapped_rows_pending: U,
  remapped_rows_failure: U,
  mig_mode: U,
  retired_pages_pending: U,
};
const NO_REMAP = {
  remapped_rows_correctable: 0,
  remapped_rows_uncorrectable: 0,
  remapped_rows_pending: false,
  remapped_rows_failure: false,
};

const EXPECTED: Record<string, Expected> = {
  "linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt": {
    busId: "00000000:0C:00.0",
    // idle: 0 %, 9 %, 214 MiB / 8192 MiB, 40 C, 39.32 W / 250.00 W, 765 / 810 MHz, fan 38 %, P8, 0x…04, gen 1 x16
    idle: {
      utilization_gpu_pct: 0,
      utilization_memory_pct: 9,
      memory_used_mib: 214,
      memory_total_mib: 8192,
      temperature_gpu_celsius: 40,
      power_draw_watts: 39.32,
      power_limit_watts: 250,
      clocks_sm_mhz: 765,
      clocks_memory_mhz: 810,
      fan_speed_pct: 38,
      pstate: 8,
      clock_event_reasons: 4,
      pcie_link_gen: 1,
      pcie_link_width: 16,
      pcie_link_gen_max: 3,
      pcie_link_width_max: 16,
    },
    load: {
      utilization_gpu_pct: 8,
      utilization_memory_pct: 3,
      memory_used_mib: 819,
      memory_total_mib: 8192,
      temperature_gpu_celsius: 45,
      power_draw_watts: 111.5,
      power_limit_watts: 250,
      clocks_sm_mhz: 2055,
      clocks_memory_mhz: 7500,
      fan_speed_pct: 38,
      pstate: 2,
      clock_event_reasons: 0,
      pcie_link_gen: 3,
      pcie_link_width: 16,
      pcie_link_gen_max: 3,
      pcie_link_width_max: 16,
    },
    absent: CONSUMER_ABSENT,
    procs: { count: 2, mib: 370 + 230 },
  },
  "linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt": {
    busId: "00000000:01:00.0",
    idle: {
      utilization_gpu_pct: 0,
      utilization_memory_pct: 23,
      memory_used_mib: 596,
      memory_total_mib: 16376,
      temperature_gpu_celsius: 43,
      power_draw_watts: 26.2,
      power_limit_watts: 320,
      clocks_sm_mhz: 210,
      clocks_memory_mhz: 405,
      fan_speed_pct: 0,
      pstate: 8,
      clock_event_reasons: 1,
      pcie_link_gen: 1,
      pcie_link_width: 16,
      pcie_link_gen_max: 4,
      pcie_link_width_max: 16,
    },
    load: {
      utilization_gpu_pct: 7,
      utilization_memory_pct: 2,
      memory_used_mib: 1474,
      memory_total_mib: 16376,
      temperature_gpu_celsius: 46,
      power_draw_watts: 84.24,
      power_limit_watts: 320,
      clocks_sm_mhz: 2805,
      clocks_memory_mhz: 11251,
      fan_speed_pct: 0,
      pstate: 2,
      clock_event_reasons: 0,
      pcie_link_gen: 4,
      pcie_link_width: 16,
      pcie_link_gen_max: 4,
      pcie_link_width_max: 16,
    },
    absent: CONSUMER_ABSENT,
    procs: { count: 3, mib: 25 + 503 + 360 },
  },
  "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt": {
    busId: "00000000:00:09.0",
    idle: {
      utilization_gpu_pct: 0,
      utilization_memory_pct: 0,
      memory_used_mib: 0,
      memory_total_mib: 81559,
      temperature_gpu_celsius: 41,
      temperature_memory_celsius: 48,
      temperature_gpu_tlimit_celsius: 46,
      power_draw_watts: 69.85,
      power_limit_watts: 700,
      clocks_sm_mhz: 345,
      clocks_memory_mhz: 2619,
      pstate: 0,
      clock_event_reasons: 1,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      ...NO_REMAP,
      pcie_link_gen: 5,
      pcie_link_width: 16,
      pcie_link_gen_max: 5,
      pcie_link_width_max: 16,
      mig_mode: false,
    },
    load: {
      utilization_gpu_pct: 100,
      utilization_memory_pct: 11,
      memory_used_mib: 19818,
      memory_total_mib: 81559,
      temperature_gpu_celsius: 59,
      temperature_memory_celsius: 54,
      temperature_gpu_tlimit_celsius: 26,
      power_draw_watts: 631.95,
      power_limit_watts: 700,
      clocks_sm_mhz: 1980,
      clocks_memory_mhz: 2619,
      pstate: 0,
      clock_event_reasons: 0,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      ...NO_REMAP,
      pcie_link_gen: 5,
      pcie_link_width: 16,
      pcie_link_gen_max: 5,
      pcie_link_width_max: 16,
      mig_mode: false,
    },
    absent: { fan_speed_pct: U, retired_pages_sbe: U, retired_pages_dbe: U, retired_pages_pending: U },
    procs: { count: 3, mib: 2566 + 1542 + 15690 },
  },
  "linux-x86_64__nvidia-h100-mig__590.48.01.txt": {
    busId: "00000000:00:09.0",
    idle: {
      memory_used_mib: 59,
      memory_total_mib: 81559,
      temperature_gpu_celsius: 42,
      temperature_memory_celsius: 48,
      temperature_gpu_tlimit_celsius: 45,
      power_draw_watts: 71.15,
      power_limit_watts: 700,
      clocks_sm_mhz: 345,
      clocks_memory_mhz: 2619,
      pstate: 0,
      clock_event_reasons: 1,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      pcie_link_gen: 5,
      pcie_link_width: 16,
      pcie_link_gen_max: 5,
      pcie_link_width_max: 16,
      mig_mode: true,
    },
    load: {
      memory_used_mib: 11125,
      memory_total_mib: 81559,
      temperature_gpu_celsius: 53,
      temperature_memory_celsius: 59,
      temperature_gpu_tlimit_celsius: 24,
      power_draw_watts: 433.78,
      power_limit_watts: 700,
      clocks_sm_mhz: 1980,
      clocks_memory_mhz: 2619,
      pstate: 0,
      clock_event_reasons: 0,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      pcie_link_gen: 5,
      pcie_link_width: 16,
      pcie_link_gen_max: 5,
      pcie_link_width_max: 16,
      mig_mode: true,
    },
    // utilization.gpu is [N/A] under MIG (docs/design.md §9).
    absent: {
      utilization_gpu_pct: U,
      utilization_memory_pct: U,
      fan_speed_pct: U,
      retired_pages_sbe: U,
      retired_pages_dbe: U,
      remapped_rows_correctable: U,
      remapped_rows_uncorrectable: U,
      remapped_rows_pending: U,
      remapped_rows_failure: U,
      retired_pages_pending: U,
    },
    procs: { count: 3, mib: 2296 + 1272 + 7484 },
  },
  "linux-x86_64__nvidia-l40s__595.80.txt": {
    busId: "00000000:01:00.0",
    idle: {
      utilization_gpu_pct: 100,
      utilization_memory_pct: 9,
      memory_used_mib: 0,
      memory_total_mib: 46068,
      temperature_gpu_celsius: 63,
      temperature_gpu_tlimit_celsius: 25,
      power_draw_watts: 144.97,
      power_limit_watts: 350,
      clocks_sm_mhz: 2520,
      clocks_memory_mhz: 9001,
      pstate: 0,
      clock_event_reasons: 0,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      ...NO_REMAP,
      pcie_link_gen: 4,
      pcie_link_width: 16,
      pcie_link_gen_max: 4,
      pcie_link_width_max: 16,
    },
    load: {
      utilization_gpu_pct: 9,
      utilization_memory_pct: 2,
      memory_used_mib: 1235,
      memory_total_mib: 46068,
      temperature_gpu_celsius: 54,
      temperature_gpu_tlimit_celsius: 34,
      power_draw_watts: 110.23,
      power_limit_watts: 350,
      clocks_sm_mhz: 2520,
      clocks_memory_mhz: 9001,
      pstate: 0,
      clock_event_reasons: 0,
      ecc_corrected_volatile: 0,
      ecc_uncorrected_volatile: 0,
      ...NO_REMAP,
      pcie_link_gen: 4,
      pcie_link_width: 16,
      pcie_link_gen_max: 4,
      pcie_link_width_max: 16,
    },
    absent: {
      temperature_memory_celsius: U,
      fan_speed_pct: U,
      retired_pages_sbe: U,
      retired_pages_dbe: U,
      retired_pages_pending: U,
      mig_mode: U,
    },
    procs: { count: 2, mib: 538 + 681 },
  },
};

function parseCapture(file: string, phase: "idle" | "load"): IGpuSample {
  const sections = readCapture(file);
  const plan = planQuery(parseHelpQueryGpu(section(sections, "capabilities", "help-query-gpu").output));
  const gpus = parseGpuList(section(sections, "capabilities", "list (-L)").output).gpus;
  const stream = new CsvStream(plan, gpus);
  const events = section(sections, phase, "query-gpu")
    .output.split("\n")
    .flatMap((line) => stream.push(line, 1000));
  expect(events.filter((e) => e.type !== "sample")).toEqual([]);
  expect(events).toHaveLength(1);
  const event = events[0];
  if (event?.type !== "sample") throw new Error("no sample");
  expect(event.gpus).toHaveLength(1);
  return event.gpus[0]!;
}

describe.each(captureFiles())("capture %s", (file) => {
  const expected = EXPECTED[file];
  it("has expectations written for it", () => expect(expected).toBeDefined());
  if (!expected) return;

  it("discovery: every stream metric is known to this driver, event reasons under their new name", () => {
    const sections = readCapture(file);
    const plan = planQuery(parseHelpQueryGpu(section(sections, "capabilities", "help-query-gpu").output));
    expect(plan.notQueried).toEqual([]);
    expect(plan.fields).toContain("clocks_event_reasons.active");
    expect(plan.fields).toContain("pcie.link.gen.gpucurrent");
  });

  it.each(["idle", "load"] as const)(
    "%s: values equal the capture's numbers, absent fields absent",
    (phase) => {
      const sample = parseCapture(file, phase) as Record<string, unknown> & IGpuSample;
      expect(sample.state).toBe(GpuState.GPU_STATE_OK);
      expect(sample.index).toBe(0);
      expect(sample.uuid).toBe("GPU-00000000-0000-0000-0000-000000000000");
      expect(sample.pci_bus_id).toBe(expected.busId);
      const values = expected[phase];
      for (const [key, value] of Object.entries(values)) {
        if (typeof value === "number" && !Number.isInteger(value))
          expect(sample[key], key).toBeCloseTo(value, 5);
        else expect(sample[key], key).toBe(value);
      }
      const absent = Object.fromEntries(
        (sample.absent ?? []).map((a) => [METRICS.find((m) => m.id === a.metric)?.key, a.reason]),
      );
      const expectedAbsent: Absent = { ...expected.absent };
      expect(absent).toEqual(expectedAbsent);
      // Every stream metric is either a value written above or an absence: nothing unchecked.
      for (const def of METRICS.filter((m) => m.smiFields.length > 0)) {
        const present = sample[def.key] !== undefined && sample[def.key] !== null;
        expect(present !== def.key in absent, def.key).toBe(true);
        expect(present, def.key).toBe(def.key in values);
      }
    },
  );

  it("compute processes (load): count and memory per GPU from --query-compute-apps", () => {
    const out = section(readCapture(file), "load", "query-compute-apps").output.split("\n");
    const header = out[0]!.split(", ").map((h) => h.replace(/ \[.*\]$/, ""));
    const col = (name: string) => header.indexOf(name);
    const rows = out
      .slice(1)
      .map((l) => l.split(", "))
      .map((c) => [c[col("gpu_uuid")], c[col("pid")], c[col("used_gpu_memory")]].join(", "));
    const apps = parseComputeApps(rows.join("\n"));
    expect(apps.ok && apps.byUuid.get("GPU-00000000-0000-0000-0000-000000000000")).toEqual({
      processes: expected.procs.count,
      memoryMib: expected.procs.mib,
    });
  });
});
