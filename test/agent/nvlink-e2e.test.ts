// End to end: `gputel agent` runs `gputel mock-smi` as its nvidia-smi with the NVLink poll every
// second; the frames at a decoding subscriber carry nvlink_errors from `nvlink -e`, rising with
// the scenario's CRC errors on the H100, and absent as unsupported on the MIG and consumer GPUs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AbsentReason, type IGpuSample, Metric } from "../../shared/proto.js";
import { startAedes } from "../helpers/aedes.js";
import { GPUTEL, spawnGputel } from "../helpers/cli.js";
import { waitFor } from "../helpers/net.js";
import { subscribe } from "../helpers/subscriber.js";

const HOST = "nvlink-e2e";
const SCENARIO = `
hosts:
  - name: ${HOST}
    gpus:
      - model: NVIDIA H100 80GB HBM3
        nvlink_errors: { at: 0s, per_minute: 600 }
      - model: NVIDIA A100-SXM4-80GB
        mig: [3g.40gb]
      - model: NVIDIA GeForce RTX 4080 SUPER
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const errorsOf = (gpu: IGpuSample | undefined) =>
  gpu?.nvlink_errors === null || gpu?.nvlink_errors === undefined ? undefined : Number(gpu.nvlink_errors);

describe("agent NVLink error counters", () => {
  it("publishes nvlink_errors from nvlink -e, rising; unsupported GPUs say so", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const { received, client } = await subscribe(broker.url, `gputel/v1/${HOST}/#`);
    cleanups.push(() => client.endAsync());
    const dir = mkdtempSync(join(tmpdir(), "gputel-nvlink-e2e-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const scenario = join(dir, "scenario.yaml");
    writeFileSync(scenario, SCENARIO);
    const config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      [
        `host: ${HOST}`,
        "interval: 200ms",
        "nvlink_interval: 1s",
        `state_directory: ${join(dir, "state")}`,
        `nvidia_smi: ${GPUTEL} mock-smi --scenario ${scenario} --`,
        `broker: { url: "${broker.url}" }`,
        "",
      ].join("\n"),
    );
    const agent = spawnGputel(["agent", "--config", config]);
    cleanups.push(async () => {
      agent.child.kill("SIGKILL");
      await agent.exited;
    });
    const h100 = () => received.frames.map((f) => errorsOf(f.gpus?.[0])).filter((v) => v !== undefined);
    await waitFor(
      () => new Set(h100()).size >= 2,
      30_000,
      `two nvlink -e readings (agent: ${agent.output()})`,
    );
    const readings = h100();
    expect(readings.at(-1)).toBeGreaterThan(readings[0] ?? Number.POSITIVE_INFINITY);
    const last = received.frames.at(-1);
    expect(last?.gpus?.[0]).toMatchObject({ nvlink_links_down: 0, nvlink_links_below_speed: 0 });
    for (const gpu of [last?.gpus?.[1], last?.gpus?.[2]]) {
      expect(errorsOf(gpu)).toBeUndefined();
      expect(gpu?.absent).toContainEqual({
        metric: Metric.METRIC_NVLINK_ERRORS,
        reason: AbsentReason.ABSENT_REASON_UNSUPPORTED,
      });
    }
  });
});
