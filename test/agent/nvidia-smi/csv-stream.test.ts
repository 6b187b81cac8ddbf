import { describe, expect, it } from "vitest";
import { CsvStream, MISSING_DETAIL, type StreamEvent } from "../../../agent/sources/nvidia-smi/csv-stream.js";
import { planQuery } from "../../../agent/sources/nvidia-smi/discovery.js";
import { classifyLine, normaliseBusId } from "../../../agent/sources/nvidia-smi/error-lines.js";
import { keepIdentities, parseGpuList } from "../../../agent/sources/nvidia-smi/gpu-list.js";
import { AbsentReason, GpuState, Metric } from "../../../shared/proto.js";

// A small plan: utilization.gpu, memory.used, power.draw, pstate, clocks_event_reasons.active, mig.mode.current.
const plan = planQuery(
  new Set([
    "utilization.gpu",
    "memory.used",
    "power.draw",
    "pstate",
    "clocks_event_reasons.active",
    "mig.mode.current",
  ]),
);
const GPUS = [0, 1, 2].map((index) => ({ index, uuid: `GPU-${index}` }));
const bus = (i: number) => `00000000:${(0x34 + i).toString(16).toUpperCase()}:00.0`;
const row = (i: number, util = "50") =>
  `2026/07/14 08:12:38.696, ${i}, GPU-${i}, ${bus(i)}, ${util}, 1024, 69.85, P0, 0x0000000000000001, Disabled`;

function feed(stream: CsvStream, lines: string[], t = 0): StreamEvent[] {
  return lines.flatMap((l) => stream.push(l, t));
}
const samples = (events: StreamEvent[]) => events.flatMap((e) => (e.type === "sample" ? [e] : []));

describe("CsvStream grouping", () => {
  it("one sample per iteration once every GPU is seen", () => {
    const s = new CsvStream(plan, GPUS);
    expect(feed(s, [row(0), row(1)])).toEqual([]);
    const [sample] = samples(feed(s, [row(2)], 5));
    expect(sample?.gpus.map((g) => [g.index, g.state, g.utilization_gpu_pct])).toEqual([
      [0, GpuState.GPU_STATE_OK, 50],
      [1, GpuState.GPU_STATE_OK, 50],
      [2, GpuState.GPU_STATE_OK, 50],
    ]);
    expect(sample?.gpus[0]).toMatchObject({
      memory_used_mib: 1024,
      pstate: 0,
      clock_event_reasons: 1,
      mig_mode: false,
      pci_bus_id: bus(0),
    });
    expect(sample?.missing).toEqual([]);
  });

  it("a repeated index closes the iteration; the missing GPU is listed with ERROR, no values", () => {
    const s = new CsvStream(plan, GPUS);
    const events = feed(s, [row(0), row(1), row(0)]);
    const [sample] = samples(events);
    expect(sample?.missing).toEqual([2]);
    expect(sample?.gpus[2]).toEqual({
      index: 2,
      uuid: "GPU-2",
      pci_bus_id: "",
      state: GpuState.GPU_STATE_ERROR,
      state_detail: MISSING_DETAIL,
      absent: [],
    });
  });

  it("one bad field never spoils the others; unqueried metrics are NOT_QUERIED", () => {
    const s = new CsvStream(plan, [GPUS[0]!]);
    const [sample] = samples(feed(s, [row(0, "[Unknown Error]")]));
    const gpu = sample!.gpus[0]!;
    expect(gpu.utilization_gpu_pct).toBeUndefined();
    expect(gpu.memory_used_mib).toBe(1024);
    expect(gpu.absent).toContainEqual({ metric: 10, reason: AbsentReason.ABSENT_REASON_ERROR });
    expect(gpu.absent).toContainEqual({ metric: 21, reason: AbsentReason.ABSENT_REASON_NOT_QUERIED });
  });

  it("an empty last field (`…, ` as nvidia-smi prints it) is absent UNPARSEABLE, the row still read", () => {
    const s = new CsvStream(plan, [GPUS[0]!]);
    const line = `${row(0).slice(0, -"Disabled".length)}`;
    expect(line.endsWith(", ")).toBe(true);
    const [sample] = samples(feed(s, [line]));
    const gpu = sample!.gpus[0]!;
    expect(gpu).toMatchObject({
      state: GpuState.GPU_STATE_OK,
      utilization_gpu_pct: 50,
      memory_used_mib: 1024,
    });
    expect(gpu.mig_mode).toBeUndefined();
    expect(gpu.absent).toContainEqual({
      metric: Metric.METRIC_MIG_MODE,
      reason: AbsentReason.ABSENT_REASON_UNPARSEABLE,
    });
  });

  it("garbage lines are reported, not fatal, and the stream carries on", () => {
    const s = new CsvStream(plan, [GPUS[0]!]);
    const events = feed(s, ["\u0000\u0001garbage", "1, 2, 3", row(0)]);
    expect(events.map((e) => e.type)).toEqual(["garbage", "garbage", "sample"]);
  });

  it("flush emits a partial iteration; reset drops it", () => {
    const s = new CsvStream(plan, GPUS);
    feed(s, [row(0)]);
    expect(samples(s.flush())[0]?.missing).toEqual([1, 2]);
    feed(s, [row(0)]);
    s.reset();
    expect(s.flush()).toEqual([]);
  });
});

describe("CsvStream lost GPUs and source errors (test/fixtures/nvidia-smi/errors.md)", () => {
  const started = () => {
    const s = new CsvStream(plan, GPUS);
    feed(s, [row(0), row(1), row(2)]); // learns the bus ids
    return s;
  };

  it.each([
    ["Unable to determine the device handle for GPU1: 0000:35:00.0: Unknown Error", 1],
    ["Unable to determine the device handle for GPU0000:36:00.0: Unknown Error", 2],
    ["Unable to determine the device handle for GPU 0: Unknown Error", 0],
    [
      "Unable to determine the device handle for GPU0000:35:00.0: GPU is lost.  Reboot the system to recover this GPU",
      1,
    ],
  ])("%s → that GPU LOST, the others keep reporting", (line, lostIndex) => {
    const s = started();
    const others = [0, 1, 2].filter((i) => i !== lostIndex);
    const events = feed(s, [line, ...others.map((i) => row(i))]);
    const [sample] = samples(events);
    expect(events[0]).toEqual({ type: "gpu-lost", index: lostIndex, line });
    const lost = sample!.gpus[lostIndex]!;
    expect(lost).toMatchObject({
      state: GpuState.GPU_STATE_LOST,
      state_detail: line,
      uuid: `GPU-${lostIndex}`,
    });
    expect(lost.utilization_gpu_pct).toBeUndefined();
    for (const i of others)
      expect(sample!.gpus[i]).toMatchObject({ state: GpuState.GPU_STATE_OK, utilization_gpu_pct: 50 });
    // Said once only: the GPU stays lost and the next iterations complete without waiting for it.
    const [next] = samples(
      feed(
        s,
        others.map((i) => row(i)),
      ),
    );
    expect(next!.gpus[lostIndex]?.state).toBe(GpuState.GPU_STATE_LOST);
    // It comes back: OK again (when it is the last index, from the iteration after its return).
    const back = samples(
      feed(
        s,
        [0, 1, 2, 0, 1, 2].map((i) => row(i)),
      ),
    );
    expect(back.at(-1)!.gpus.every((g) => g.state === GpuState.GPU_STATE_OK)).toBe(true);
  });

  it("a bare 'GPU is lost' marks the GPU missing from the iteration as LOST", () => {
    const s = started();
    const [sample] = samples(feed(s, ["GPU is lost", row(0), row(1), row(0)]));
    expect(sample!.gpus[2]).toMatchObject({ state: GpuState.GPU_STATE_LOST, state_detail: "GPU is lost" });
  });

  it("a row whose every value is 'GPU is lost' is a LOST GPU", () => {
    const s = new CsvStream(plan, [GPUS[0]!]);
    const lostRow = `2026/07/14 08:12:38.696, 0, GPU-0, ${bus(0)}, ${Array(6).fill("[GPU is lost]").join(", ")}`;
    const [sample] = samples(feed(s, [lostRow]));
    expect(sample!.gpus[0]).toMatchObject({ state: GpuState.GPU_STATE_LOST, state_detail: lostRow });
  });

  it.each([
    ["No devices were found", "GPUTEL_E_NVSMI_NO_DEVICES"],
    [
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      "GPUTEL_E_NVSMI_DRIVER",
    ],
    ["Failed to initialize NVML: Driver/library version mismatch", "GPUTEL_E_NVSMI_DRIVER"],
    ['Field "clocks_event_reasons.active" is not a valid field to query.', "GPUTEL_E_NVSMI_OUTPUT"],
  ])("%s → source error %s", (line, code) => {
    expect(new CsvStream(plan, GPUS).push(line, 0)).toEqual([{ type: "source-error", code, line }]);
  });

  it("bus ids compare across spellings", () => {
    expect(normaliseBusId("00000000:CB:00.0")).toBe(normaliseBusId("0000:cb:00.0"));
    expect(
      classifyLine("Unable to determine the device handle for GPU0000:CB:00.0: Unknown Error"),
    ).toMatchObject({ busId: "0:cb:00.0" });
  });

  it("-L: GPUs, MIG lines skipped, lost and driver lines recognised", () => {
    const list = parseGpuList(
      [
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)",
        "  MIG 3g.40gb     Device  0: (UUID: MIG-0000)",
        "Unable to determine the device handle for GPU 1: Unknown Error",
        "GPU 2: NVIDIA H100 80GB HBM3 (UUID: GPU-cccc)",
      ].join("\n"),
    );
    expect(list.gpus).toEqual([
      { index: 0, uuid: "GPU-aaaa" },
      { index: 1, uuid: "" },
      { index: 2, uuid: "GPU-cccc" },
    ]);
    expect(list.lost.map((l) => l.index)).toEqual([1]);
    expect(parseGpuList("No devices were found").sourceError?.code).toBe("GPUTEL_E_NVSMI_NO_DEVICES");
  });

  it("-L after a GPU fell off the bus: the restarted stream keeps the UUID and bus id it had", () => {
    const before = [
      { index: 0, uuid: "GPU-aaaa", pciBusId: "00000000:34:00.0" },
      { index: 1, uuid: "GPU-bbbb", pciBusId: "00000000:35:00.0" },
      { index: 2, uuid: "GPU-cccc" },
    ];
    const list = parseGpuList(
      [
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)",
        "Unable to determine the device handle for GPU1: 0000:35:00.0: Unknown Error",
        "Unable to determine the device handle for GPU 2: Unknown Error",
        "Unable to determine the device handle for GPU3: 0000:37:00.0: Unknown Error",
      ].join("\n"),
    );
    expect(list.lost.map((l) => l.busId)).toEqual(["0:35:00.0", undefined, "0:37:00.0"]);
    expect(keepIdentities(before, list)).toEqual([
      { index: 0, uuid: "GPU-aaaa" },
      { index: 1, uuid: "GPU-bbbb", pciBusId: "00000000:35:00.0" },
      // No bus id on either side: the index decides.
      { index: 2, uuid: "GPU-cccc" },
      // Never read before: still reported, without a UUID.
      { index: 3, uuid: "" },
    ]);
    // The bus id wins over the index: a GPU whose index moved keeps its own UUID, and a lost
    // GPU at another bus never takes a neighbour's.
    const moved = [{ index: 5, uuid: "GPU-bbbb", pciBusId: "00000000:35:00.0" }];
    expect(keepIdentities(moved, list)[1]).toEqual({
      index: 1,
      uuid: "GPU-bbbb",
      pciBusId: "00000000:35:00.0",
    });
    // Named by bus id alone: listed under the index it had, unless that index is taken.
    const byBus = parseGpuList(
      [
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)",
        "Unable to determine the device handle for GPU0000:35:00.0: Unknown Error",
        "Unable to determine the device handle for GPU0000:CB:00.0: Unknown Error",
      ].join("\n"),
    );
    expect(byBus.gpus).toEqual([{ index: 0, uuid: "GPU-aaaa" }]);
    expect(byBus.lostByBus.map((l) => l.busId)).toEqual(["0:35:00.0", "0:cb:00.0"]);
    expect(keepIdentities(before, byBus)).toEqual([
      { index: 0, uuid: "GPU-aaaa" },
      { index: 1, uuid: "GPU-bbbb", pciBusId: "00000000:35:00.0" },
    ]);
    expect(keepIdentities([{ index: 0, uuid: "GPU-bbbb", pciBusId: "00000000:35:00.0" }], byBus)).toEqual([
      { index: 0, uuid: "GPU-aaaa" },
    ]);
    const elsewhere = [{ index: 3, uuid: "GPU-dddd", pciBusId: "00000000:99:00.0" }];
    expect(keepIdentities(elsewhere, list)[3]).toEqual({ index: 3, uuid: "" });
  });
});
