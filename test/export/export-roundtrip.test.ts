// `gputel export` end to end: the CLI asks the real HTTP API over a real store (export-fixture.ts,
// filled through the write path), writes the file, and real tools take it:
// - vm-jsonl is imported into a real VictoriaMetrics (/api/v1/import) and read back through its
//   /api/v1/export equal to the store's own samples, series by series;
// - openmetrics is accepted by `promtool tsdb create-blocks-from openmetrics`, which creates
//   blocks (`promtool tsdb list`) whose dump equals the store's samples.
// Each part skips when its Debian tool is missing (GPUTEL_REQUIRE_* makes that a failure).
import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/export/cli.js";
import { createApiServer } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { silentLogger } from "../../shared/logger.js";
import { toolAvailable } from "../helpers/tools.js";
import { startVictoriaMetrics, victoriaMetricsAvailable } from "../helpers/victoria-metrics.js";
import { type ExportFixture, expectedRaw, exportFixture } from "./export-fixture.js";

const PROMTOOL = process.env.GPUTEL_PROMTOOL ?? "/usr/bin/promtool";
const hasVm = victoriaMetricsAvailable("export into VictoriaMetrics");
const hasPromtool = toolAvailable({
  bins: [PROMTOOL],
  require: "PROMETHEUS",
  apt: "prometheus",
  what: "export into promtool",
});

let fx: ExportFixture;
let api: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  fx = exportFixture();
  const server = createApiServer({
    backend: new StoreBackend({
      store: fx.store,
      flags: { openFlags: () => [], history: () => [], flagStarts: () => [], flagEpisodes: () => [] },
    }),
    listen: { host: "127.0.0.1", port: 0 },
    logger: silentLogger(),
  });
  const { port } = await server.start();
  api = { url: `http://127.0.0.1:${port}`, stop: () => server.stop() };
}, 60_000);

afterAll(async () => {
  await api?.stop();
  fx?.close();
});

/** Runs `gputel export` in-process into a file; returns its path. */
async function cliExport(format: string, name: string, extra: string[] = []): Promise<string> {
  const file = join(fx.dir, name);
  let err = "";
  const code = await run(
    [
      "--url",
      api.url,
      "--since",
      String(fx.startMs),
      "--until",
      String(fx.endMs + 60_000),
      "--format",
      format,
      "--output",
      file,
      ...extra,
    ],
    { stdout: new PassThrough(), stderr: (t) => (err += t), env: {} },
  );
  expect(err).toBe("");
  expect(code).toBe(0);
  return file;
}

describe.skipIf(!hasVm)("vm-jsonl into a real VictoriaMetrics", () => {
  it("reads back equal to the store's samples", async () => {
    const file = await cliExport("vm-jsonl", "export.jsonl");
    const vm = await startVictoriaMetrics();
    try {
      const imported = await fetch(`${vm.url}/api/v1/import`, { method: "POST", body: await readFile(file) });
      expect(imported.status, vm.output()).toBe(204);
      await vm.flush();
      const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
      let compared = 0;
      for (const [key, expected] of want) {
        const [name, uuid] = key.split(" ") as [string, string];
        const params = new URLSearchParams({
          "match[]": `${name}{uuid="${uuid}"}`,
          start: String(Math.floor(fx.startMs / 1000) - 60),
          end: String(Math.ceil(fx.endMs / 1000) + 120),
        });
        const response = await fetch(`${vm.url}/api/v1/export?${params}`);
        expect(response.ok).toBe(true);
        const lines = (await response.text()).trimEnd().split("\n");
        expect(lines, key).toHaveLength(1);
        const line = JSON.parse(lines[0] as string) as { values: number[]; timestamps: number[] };
        const got = line.timestamps
          .map((t, i) => [t, line.values[i]])
          .sort((a, b) => (a[0] as number) - (b[0] as number));
        expect(got, key).toEqual(expected);
        compared += got.length;
      }
      // Every present value of 4 GPUs x 150 minutes at 1 s.
      expect(compared).toBeGreaterThan(4 * 9000 * 20);
    } finally {
      await vm.stop();
    }
  }, 180_000);
});

describe.skipIf(!hasPromtool)("openmetrics into promtool", () => {
  it("is accepted by create-blocks-from openmetrics, and the blocks hold the store's samples", async () => {
    const file = await cliExport("openmetrics", "export.om.txt");
    const tsdb = join(fx.dir, "tsdb");
    const exec = promisify(execFile);
    await exec(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", file, tsdb], { maxBuffer: 1 << 24 });
    const list = await exec(PROMTOOL, ["tsdb", "list", tsdb]);
    const blocks = list.stdout.trim().split("\n").slice(1);
    expect(blocks.length).toBeGreaterThan(0);
    // dump reads the WAL directory too; a backfilled TSDB has none.
    await mkdir(join(tsdb, "wal"), { recursive: true });
    const dump = await exec(PROMTOOL, ["tsdb", "dump", tsdb], { maxBuffer: 1 << 30 });
    const got = new Map<string, [number, number][]>();
    for (const line of dump.stdout.trimEnd().split("\n")) {
      const m = /^\{__name__="([^"]+)".*uuid="([^"]+)"\} (\S+) (\d+)$/.exec(line);
      if (!m) throw new Error(`unexpected dump line ${line}`);
      const key = `${m[1]} ${m[2]}`;
      const list = got.get(key) ?? [];
      list.push([Number(m[4]), Number(m[3])]);
      got.set(key, list);
    }
    const want = expectedRaw(fx.store, fx.gpus, fx.startMs, fx.endMs + 60_000);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [key, list] of want) expect(got.get(key), key).toEqual(list);
  }, 180_000);

  it("takes a rollup tier's series (<name>:<stat>_1m) as well", async () => {
    const file = await cliExport("openmetrics", "export-1m.om.txt", ["--tier", "1m"]);
    const tsdb = join(fx.dir, "tsdb-1m");
    const exec = promisify(execFile);
    await exec(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", file, tsdb]);
    await mkdir(join(tsdb, "wal"), { recursive: true });
    const dump = await exec(
      PROMTOOL,
      ["tsdb", "dump", "--match", '{__name__="gputel_gpu_power_draw_watts:avg_1m"}', tsdb],
      {
        maxBuffer: 1 << 26,
      },
    );
    // 150 one-minute buckets for each of the 4 GPUs.
    expect(dump.stdout.trimEnd().split("\n")).toHaveLength(4 * 150);
  }, 120_000);
});
