// The inventory (`-q -x`) of a host with a GPU that fell off the bus: nvidia-smi leaves the lost
// GPU out of the document (fixtures/nvidia-smi/errors.md), so the GPUs after it are not at their
// index's position. Each must keep the index the stream reports it under: the agent maps the
// kernel log's bus ids through these GPUs, and the collector places a GPU by it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NvidiaSmiSource } from "../../../agent/sources/nvidia-smi/runner.js";
import type { SourceSample } from "../../../agent/sources/source.js";
import { busIdFor, uuidFor } from "../../../mock-smi/scenario-state.js";
import { silentLogger } from "../../../shared/logger.js";
import { GpuState } from "../../../shared/proto.js";
import { GPUTEL } from "../../helpers/cli.js";
import { waitFor } from "../../helpers/net.js";

const HOST = "inventory-lost";
const SCENARIO = `
hosts:
  - name: ${HOST}
    gpus:
      - { model: NVIDIA H100 80GB HBM3 }
      - { model: NVIDIA H100 80GB HBM3, lost_at: 0s }
      - { model: NVIDIA H100 80GB HBM3 }
`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("inventory with a GPU fallen off the bus", () => {
  it("gives each GPU the index the stream reports it under, not its position in -q -x", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-inventory-lost-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const scenario = join(dir, "scenario.yaml");
    writeFileSync(scenario, SCENARIO);
    const source = new NvidiaSmiSource({
      command: [process.execPath, GPUTEL, "mock-smi", "--scenario", scenario, "--"],
      intervalMs: 200,
      computeAppsIntervalMs: 60_000,
      inventoryTimeoutMs: 10_000,
      oneShotTimeoutMs: 10_000,
      firstSampleTimeoutMs: 10_000,
      logger: silentLogger(),
    });
    const samples: SourceSample[] = [];
    cleanups.push(() => source.stop());
    await source.start((s) => samples.push(s));
    const ok = () => samples.at(-1)?.gpus.filter((g) => g.state === GpuState.GPU_STATE_OK) ?? [];
    await waitFor(() => ok().length === 2, 20_000, "a sample of the two GPUs still on the bus");
    expect(ok().map((g) => [g.index, g.uuid])).toEqual([
      [0, uuidFor(HOST, 0)],
      [2, uuidFor(HOST, 2)],
    ]);

    const inventory = await source.inventory();
    expect(inventory.gpus.map((g) => [g.index, g.uuid, g.pci_bus_id])).toEqual([
      [0, uuidFor(HOST, 0), busIdFor(0)],
      [2, uuidFor(HOST, 2), busIdFor(2)],
    ]);
  });
});
