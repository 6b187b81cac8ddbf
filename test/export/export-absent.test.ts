// Absent stays absent, with hand-built frames through the store's write path: a reading that
// is missing is an empty CSV cell and no OpenMetrics or vm-jsonl sample (never 0), and a GPU
// that could not be read at all (state lost, no values) is still a CSV row with its state.
import { afterAll, expect, it } from "vitest";
import { RAW_TIER } from "../../collector/export/columns.js";
import { exportChunks } from "../../collector/export/export-stream.js";
import { StoreExportSource } from "../../collector/export/store-source.js";
import { GpuState } from "../../shared/proto.js";
import { frame, gpu, T0, tempStore } from "../collector/store/synth.js";

const tmp = tempStore();
afterAll(() => tmp.cleanup());

it("writes a missing reading as nothing, and an unreadable GPU's sample as a row with its state", async () => {
  const store = tmp.open();
  store.writeFrames(
    [
      frame(1, T0 + 1000, [gpu(0, { power_draw_watts: 100.5, temperature_gpu_celsius: 40 })]),
      frame(2, T0 + 2000, [gpu(0, { temperature_gpu_celsius: 41 })]),
      frame(3, T0 + 3000, [{ index: 0, uuid: "GPU-test-0", state: GpuState.GPU_STATE_LOST }]),
    ],
    T0 + 3000,
  );
  const gpus = store.latest().map((g) => ({ ...g }));
  const text = async (format: "csv" | "openmetrics" | "vm-jsonl") => {
    let out = "";
    const request = { fromMs: T0, toMs: T0 + 10_000, tier: RAW_TIER, format, gpus };
    for await (const chunk of exportChunks(new StoreExportSource(store), request)) out += chunk;
    return out;
  };
  const rows = (await text("csv")).trimEnd().split("\n");
  const header = (rows[0] as string).split(",");
  const cell = (row: number, name: string) => (rows[row] as string).split(",")[header.indexOf(name)];
  expect(rows).toHaveLength(4);
  expect(cell(1, "gputel_gpu_power_draw_watts")).toBe("100.5");
  expect(cell(2, "gputel_gpu_power_draw_watts")).toBe("");
  expect(cell(2, "gputel_gpu_temperature_celsius")).toBe("41");
  expect(cell(3, "state")).toBe("lost");
  expect(cell(3, "gputel_gpu_temperature_celsius")).toBe("");
  const om = (await text("openmetrics"))
    .split("\n")
    .filter((l) => l.startsWith("gputel_gpu_power_draw_watts{"));
  expect(om).toHaveLength(1);
  const vm = (await text("vm-jsonl"))
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { metric: { __name__: string }; values: number[]; timestamps: number[] });
  const power = vm.find((l) => l.metric.__name__ === "gputel_gpu_power_draw_watts");
  expect(power).toMatchObject({ values: [100.5], timestamps: [T0 + 1000] });
  expect(vm.find((l) => l.metric.__name__ === "gputel_gpu_temperature_celsius")?.values).toEqual([40, 41]);
});
