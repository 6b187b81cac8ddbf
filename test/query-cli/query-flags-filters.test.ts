// `gputel query flags` with the dashboard's filters (--model, --search, --gpu, --problems) and
// `gputel query report downtime` (table and CSV), against a live API over real stored data.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

const MIN = 60_000;
let a: LiveApi;
let lostFrom: number;
beforeAll(async () => {
  a = await startLiveApi();
  lostFrom = a.fleet.nowMs - 90 * MIN;
  const store = new FlagStore(a.fleet.store.db);
  const f = store.insert(
    {
      kind: "reset-required",
      severity: "critical",
      host: "node-c",
      gpuUuid: gpuUuid(2, 0),
      gpuIndex: 0,
      site: "fra1",
      labels: { customer: "acme" },
      startMs: lostFrom,
      reason: "Xid 79: GPU has fallen off the bus; reset the GPU",
      values: {},
    },
    lostFrom,
  );
  store.close({ ...f, endMs: lostFrom + 15 * MIN, updatedMs: lostFrom + 15 * MIN });
});
afterAll(async () => {
  await a?.close();
});

async function query(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await run([...args, "--url", a.url], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    isTTY: false,
  });
  return { code, stdout, stderr };
}

const gpusOf = (csv: string) =>
  csv
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split(",")[2]);

describe("gputel query flags: the dashboard's filters", () => {
  test("--search, --problems, --model, --gpu narrow the list as the API does", async () => {
    const search = await query(["flags", "--search", "node-b", "--format", "csv"]);
    expect(search.code).toBe(0);
    expect(gpusOf(search.stdout).sort()).toEqual(["node-b:1", "node-b:2"]);
    const problems = await query(["flags", "--search", "node-a", "--problems", "--format", "csv"]);
    expect(
      problems.stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => l.split(",")[0]),
    ).toEqual(["overheat", "idle-held"]);
    const none = await query(["flags", "--model", "NVIDIA A100", "--format", "csv"]);
    expect(gpusOf(none.stdout)).toEqual([]);
    const one = await query([
      "flags",
      "--gpu",
      "node-c:0",
      "--state",
      "all",
      "--since",
      "24h",
      "--format",
      "csv",
    ]);
    expect(gpusOf(one.stdout)).toEqual(["node-c:0"]);
    expect(one.stdout).toContain("reset-required");
  });
});

describe("gputel query report downtime", () => {
  test("the table lists the down GPU with why; CSV has one line per interval", async () => {
    const t = await query(["report", "downtime", "--by", "model"]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^downtime report /);
    // AVAILABILITY is a percentage as the other tables' shares are: it printed the ratio (1.0);
    // 15 down minutes of the 12 GPUs' time in the fleet's few hours here leave 99.3 %.
    expect(t.stdout).toMatch(/^NVIDIA H100 80GB HBM3\s+12\s+1\s+1\s+0\.3\s+99\.\d %\s/m);
    expect(t.stdout).toMatch(/^TOTAL\s+12\s+1\s+1\s+0\.3\s+99\.\d %\s/m);
    expect(t.stdout).toMatch(/Down GPUs \(longest first\)/);
    expect(t.stdout).toMatch(/node-c:0\s+NVIDIA H100 80GB HBM3\s+15m\s.*reset-required: Xid 79/);
    const c = await query(["report", "downtime", "--since", "24h", "--format", "csv"]);
    const [header, line, ...rest] = c.stdout.trimEnd().split("\n");
    expect(header).toBe("gpu,host,index,uuid,model,site,group,from,to,for_ms,kinds,reasons");
    expect(line).toBe(
      `node-c:0,node-c,0,${gpuUuid(2, 0)},NVIDIA H100 80GB HBM3,fra1,fra1,${new Date(lostFrom).toISOString()},${new Date(lostFrom + 15 * MIN).toISOString()},${15 * MIN},reset-required,Xid 79: GPU has fallen off the bus; reset the GPU`,
    );
    expect(rest).toEqual([]);
  });
});
