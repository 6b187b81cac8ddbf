// /metrics: content checked line by line, and the LIVE output of a server over real stored data
// run through `promtool check metrics` (Debian's prometheus package).
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { escapeLabelValue, renderMetrics, sanitizeLabelName } from "../../collector/exposition/prometheus.js";
import { PROMTOOL, checkMetrics as promtool } from "../helpers/promtool.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

const havePromtool = existsSync(PROMTOOL);
if (!havePromtool && process.env.GPUTEL_REQUIRE_PROMETHEUS !== "1")
  console.warn(
    `promtool not found at ${PROMTOOL}: skipping promtool check (install Debian's prometheus package)`,
  );

let api: LiveApi;
let text: string;
beforeAll(async () => {
  api = await startLiveApi();
  const r = await api.get("/metrics");
  expect(r.status).toBe(200);
  text = r.text;
});
afterAll(async () => {
  await api?.close();
});

function lines(prefix: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(prefix));
}

describe("/metrics", () => {
  test("latest GPU values with units, identity labels and agent labels", () => {
    const temp = lines("gputel_gpu_temperature_celsius{").find((l) =>
      l.includes(`uuid="${api.fleet.hotUuid}"`),
    );
    expect(temp).toBe(
      `gputel_gpu_temperature_celsius{host="node-a",gpu="3",uuid="${api.fleet.hotUuid}",model="NVIDIA H100 80GB HBM3",site="fra1",label_customer="acme",label_rack_id="r0"} 90`,
    );
    const util = lines("gputel_gpu_utilization_ratio{").find((l) => l.includes('host="node-b",gpu="1"'));
    expect(util?.endsWith(" 0")).toBe(true);
    expect(lines("gputel_gpu_memory_used_bytes{").find((l) => l.includes('gpu="0"'))).toMatch(
      / 62914560000$/,
    );
    expect(lines("gputel_gpu_utilization_ratio{")).toHaveLength(12);
  });

  test("absent values are left out, never 0", () => {
    // The fixture reports no fan speed: no series at all, and no family header either.
    expect(text).not.toContain("gputel_gpu_fan_speed_ratio");
  });

  test("up, state, open flags and the collector's health", () => {
    expect(lines("gputel_gpu_up{")).toHaveLength(12);
    expect(lines("gputel_gpu_up{").every((l) => l.endsWith(" 1"))).toBe(true);
    expect(lines("gputel_flag_open{")).toHaveLength(7);
    expect(text).toContain(
      `gputel_flag_open{kind="overheat",host="node-a",gpu="3",uuid="${api.fleet.hotUuid}",severity="critical"} 1`,
    );
    expect(text).toContain("gputel_gpus_known 12");
    expect(lines("gputel_store_database_size_bytes ")[0]).toMatch(/ \d+$/);
  });

  test("one HELP and TYPE per family, no duplicate series", () => {
    const types = lines("# TYPE ").map((l) => l.split(" ")[2]);
    expect(new Set(types).size).toBe(types.length);
    expect(lines("# HELP ")).toHaveLength(types.length);
    const series = text
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => l.slice(0, l.lastIndexOf(" ")));
    expect(new Set(series).size).toBe(series.length);
  });

  test.skipIf(!havePromtool && process.env.GPUTEL_REQUIRE_PROMETHEUS !== "1")(
    "passes promtool check metrics",
    async () => {
      const result = await promtool(text);
      expect(result.out).toBe("");
      expect(result.code).toBe(0);
    },
  );
});

test("ingest health: counters, rejects by reason, commit latency histogram", async () => {
  const snap = api.fleet.backend.metricsSnapshot();
  const buckets = [1, 5, 25, Number.POSITIVE_INFINITY].map((le, i) => ({ le, count: 10 * (i + 1) }));
  const body = renderMetrics(
    {
      ...snap,
      ingest: {
        messages: 120,
        framesStored: 110,
        framesDuplicate: 4,
        commits: 30,
        storeFailures: 0,
        overloaded: 0,
        queueDepth: 2,
        rejects: { decode_error: 3, host_mismatch: 1 },
        commitLatency: { buckets, count: 40, sumMs: 200 },
      },
    },
    api.fleet.nowMs,
  );
  expect(body).toContain("# TYPE gputel_ingest_messages_total counter\ngputel_ingest_messages_total 120");
  expect(body).toContain('gputel_ingest_rejected_total{reason="decode_error"} 3');
  expect(body).toContain('gputel_ingest_rejected_total{reason="host_mismatch"} 1');
  expect(body).toContain('gputel_ingest_commit_latency_seconds_bucket{le="0.005"} 20');
  expect(body).toContain('gputel_ingest_commit_latency_seconds_bucket{le="+Inf"} 40');
  expect(body).toContain("gputel_ingest_commit_latency_seconds_sum 0.2");
  expect(body).toContain("gputel_ingest_queue_depth 2");
  if (havePromtool || process.env.GPUTEL_REQUIRE_PROMETHEUS === "1") {
    const result = await promtool(body);
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  }
});

test("label names are sanitised and values escaped", () => {
  expect(sanitizeLabelName("rack-id")).toBe("rack_id");
  expect(sanitizeLabelName("9lives")).toBe("_9lives");
  expect(sanitizeLabelName("ok_name")).toBe("ok_name");
  expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
});
