// A store read that fails in the middle of an export, after the 200 and part of the body went
// out: the connection is cut, so the client sees an error, never a shorter file that looks whole;
// the collector's log says why.

import { PassThrough } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { QueryBackend } from "../../collector/api/backend.js";
import { createApiServer } from "../../collector/api/server.js";
import { RAW_TIER } from "../../collector/export/columns.js";
import type { ExportSlice, ExportSource } from "../../collector/export/store-source.js";
import { createLogger } from "../../shared/logger.js";

const GPU = { uuid: "GPU-1", host: "h", index: 0, model: "m", site: "s", labels: {} };

/** One GPU whose first slices read fine (well past one 64 KiB chunk) and then the store fails. */
const failingSource: ExportSource = {
  tiers: () => [RAW_TIER],
  *slices(_uuid, _tier, columns): Generator<ExportSlice> {
    for (let s = 0; s < 4; s++) {
      const ts = Array.from({ length: 1000 }, (_, k) => 1_700_000_000_000 + (s * 1000 + k) * 1000);
      yield {
        ts,
        state: ts.map(() => "ok"),
        intervalMs: ts.map(() => 1000),
        values: columns.map(() => Float64Array.from(ts, () => 1)),
      };
    }
    throw new Error("disk I/O error");
  },
};

let server: ReturnType<typeof createApiServer>;
let logged = "";
let url: string;

beforeAll(async () => {
  const backend = {
    now: () => 1_700_100_000_000,
    gpus: () => [GPU],
    gpu: () => GPU,
    exportSource: () => failingSource,
  } as unknown as QueryBackend;
  const destination = new PassThrough();
  destination.on("data", (d) => {
    logged += String(d);
  });
  const logger = createLogger({}, { destination, level: "info" });
  server = createApiServer({ backend, listen: { host: "127.0.0.1", port: 0 }, logger });
  const { port } = await server.start();
  url = `http://127.0.0.1:${port}`;
});
afterAll(async () => server?.stop());

it("cuts the connection when the store fails mid-export", async () => {
  const response = await fetch(`${url}/api/v1/export?from=1700000000000&format=csv`);
  expect(response.status).toBe(200);
  await expect(response.text()).rejects.toThrow();
  expect(logged).toContain('"msg":"Export failed"');
  expect(logged).toContain("disk I/O error");
  // The server still answers afterwards.
  expect((await fetch(`${url}/api/v1/export?format=csv`)).status).toBe(400);
});

it("does not hold the collector's shutdown for an export under way: the export is cut", async () => {
  // A source that never runs out: only a stop can end this export.
  const endless: ExportSource = {
    tiers: () => [RAW_TIER],
    *slices(_uuid, _tier, columns): Generator<ExportSlice> {
      for (let s = 0; ; s++) {
        const ts = Array.from({ length: 1000 }, (_, k) => 1_700_000_000_000 + (s * 1000 + k) * 10);
        yield {
          ts,
          state: ts.map(() => "ok"),
          intervalMs: ts.map(() => 10),
          values: columns.map(() => Float64Array.from(ts, () => 1)),
        };
      }
    },
  };
  const backend = {
    now: () => 1_700_100_000_000,
    gpus: () => [GPU],
    gpu: () => GPU,
    exportSource: () => endless,
  } as unknown as QueryBackend;
  const own = createApiServer({
    backend,
    listen: { host: "127.0.0.1", port: 0 },
    logger: createLogger({}, { destination: new PassThrough() }),
  });
  const { port } = await own.start();
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/export?from=1700000000000&format=csv`);
  const reader = response.body?.getReader();
  await reader?.read();
  const started = Date.now();
  await own.stop();
  expect(Date.now() - started).toBeLessThan(5000);
  await expect(
    (async () => {
      for (;;) if ((await reader?.read())?.done) return;
    })(),
  ).rejects.toThrow();
}, 20_000);
