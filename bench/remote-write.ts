// Remote-write throughput (issue 8): `remote_write.samples_per_s`, the values a collector can
// forward per second on one core — batching (collector/remote-write/series.ts), protobuf
// encoding, snappy block compression and an HTTP POST to a loopback node:http receiver that reads
// and discards the body — plus `remote_write.bytes_per_sample` on the wire after compression.
// Fleet: GPUs with noisy utilization, temperature and power, every metric of a busy H100 present.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeBody, fetchPost, requestHeaders } from "../collector/remote-write/sender.js";
import { type Entry, planBatches, SeriesLabels } from "../collector/remote-write/series.js";
import { scaleSample } from "../collector/store/sample.js";
import { GpuState } from "../shared/proto.js";
import type { BenchFigure } from "./common.js";

function entries(gpus: number, steps: number, t0: number): Entry[] {
  const out: Entry[] = [];
  for (let step = 0; step < steps; step++) {
    for (let g = 0; g < gpus; g++) {
      const noise = (step * 7919 + g * 104_729) % 97;
      const vals = scaleSample({
        utilization_gpu_pct: g % 4 === 0 ? 0 : 40 + (noise % 60),
        utilization_memory_pct: noise % 50,
        memory_used_mib: 60_000 + noise * 11,
        memory_total_mib: 81_559,
        temperature_gpu_celsius: 50 + (noise % 30),
        temperature_memory_celsius: 55 + (noise % 30),
        temperature_gpu_tlimit_celsius: 30 - (noise % 30),
        power_draw_watts: 120 + noise * 5.37,
        power_limit_watts: 700,
        clocks_sm_mhz: 1980 - (noise % 4) * 15,
        clocks_memory_mhz: 2619,
        pstate: 0,
        clock_event_reasons: 0,
        ecc_corrected_volatile: 0,
        ecc_uncorrected_volatile: 0,
        remapped_rows_correctable: 0,
        remapped_rows_uncorrectable: 0,
        pcie_link_gen: 5,
        pcie_link_width: 16,
        compute_processes: g % 4 === 0 ? 0 : 1,
        compute_memory_mib: 60_000 + noise * 11,
        mig_mode: false,
      });
      out.push({
        gpuId: g + 1,
        sample: { ts: t0 + step * 1000, intervalMs: 1000, state: GpuState.GPU_STATE_OK, vals },
      });
    }
  }
  return out;
}

export async function benchRemoteWrite(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const [gpus, steps] = size === "full" ? [1000, 60] : [100, 10];
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  const post = fetchPost(30_000);
  const headers = requestHeaders(undefined, {});
  const identity = (gpuId: number) => ({
    host: `node-${Math.floor(gpuId / 8)}`,
    index: gpuId % 8,
    uuid: `GPU-${gpuId.toString(16).padStart(8, "0")}-5f1a-2b3c-9d8e-0123456789ab`,
    model: "NVIDIA H100 80GB HBM3",
    site: "fra1",
    labels: { customer: `c${gpuId % 17}`, rack: `r${gpuId % 40}` },
  });
  const run = async (list: Entry[]) => {
    // The exporter's own cut: 64 store write batches per read, here one second of the fleet each.
    const lastSent = new Map<number, number>();
    const cache = new SeriesLabels();
    let samples = 0;
    const started = performance.now();
    for (let i = 0; i < list.length; i += gpus) {
      const { batches } = planBatches(list.slice(i, i + gpus), identity, lastSent, 5000, cache);
      for (const batch of batches) {
        const result = await post(url, encodeBody(batch.series), headers);
        if (result.status !== 204) throw new Error(`receiver answered ${result.status}`);
        samples += batch.samples;
      }
    }
    return { samples, seconds: (performance.now() - started) / 1000 };
  };
  try {
    await run(entries(gpus, 2, 0)); // warm-up: JIT, the HTTP connection
    bytes = 0;
    const { samples, seconds } = await run(entries(gpus, steps, 1_700_000_000_000));
    return [
      { name: "remote_write.samples_per_s", value: Math.round(samples / seconds), unit: "samples/s" },
      {
        name: "remote_write.bytes_per_sample",
        value: Number((bytes / samples).toFixed(2)),
        unit: "B/sample (snappy)",
      },
    ];
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
