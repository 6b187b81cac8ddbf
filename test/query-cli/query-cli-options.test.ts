// Issue 18's CLI options against a live API over real stored data (in-process run(), real HTTP):
// --label as the agent writes it, --format csv / --csv, --sort, named ranges (--since yesterday,
// last-month, a date), GPUs named host:index, and a notice on stderr when a list is cut.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import type { GpuView, Summary } from "../../collector/contract/api-contract.js";
import { METRICS } from "../../shared/metrics.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

let a: LiveApi;

beforeAll(async () => {
  a = await startLiveApi();
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
  return { code, stdout, stderr, lines: stdout.trimEnd().split("\n") };
}

describe("gputel query options (issue 18)", () => {
  test("--label customer=acme, as the agent spells it (and customer:acme still)", async () => {
    const eq = await query(["gpus", "--label", "customer=acme"]);
    expect(eq.stderr).toBe("");
    expect(eq.code).toBe(0);
    expect(eq.lines).toHaveLength(1 + 8);
    for (const line of eq.lines.slice(1)) expect(line).toMatch(/^node-[ac]:\d\s/);
    const colon = await query(["gpus", "--label", "customer:acme"]);
    expect(colon.stdout).toBe(eq.stdout);
    const bad = await query(["gpus", "--label", "customer"]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("is not KEY=VALUE");
  });

  test("--format csv and --csv on every command; GPUs named host:index", async () => {
    const gpus = await query(["gpus", "--format", "csv"]);
    expect(gpus.code).toBe(0);
    // Units in the column names, as the report CSVs name theirs (issue 15).
    expect(gpus.lines[0]).toBe(
      "gpu,host,index,uuid,model,site,state,util_pct,temp_celsius,power_watts,memory_used_mib,flags",
    );
    expect(gpus.lines).toHaveLength(13);
    expect(gpus.lines.find((l) => l.startsWith("node-a:3,"))).toMatch(/,90,.*overheat$/);
    expect((await query(["gpus", "--csv"])).stdout).toBe(gpus.stdout);

    const flags = await query(["flags", "--csv"]);
    expect(flags.lines[0]).toBe("kind,severity,gpu,host,site,since,until,for_ms,reason");
    expect(flags.lines.find((l) => l.startsWith("overheat,"))).toMatch(
      /^overheat,critical,node-a:3,node-a,fra1,\d{4}-\d\d-\d\dT[\d:.]+Z,,\d+,/,
    );

    const report = await query(["report", "utilization", "--csv"]);
    expect(report.lines[0]).toMatch(/^group,gpus,busy_gpu_h,/);
    expect(report.lines.at(-1)).toMatch(/^TOTAL,12,/);

    const thermal = await query(["report", "thermal", "--format", "json"]);
    const hottest = (JSON.parse(thermal.stdout) as { hottest: { host: string; index: number }[] }).hottest;
    expect(hottest[0]).toMatchObject({ host: "node-a", index: 3 });

    const byGpu = await query(["report", "utilization", "--by", "gpu", "--sort", "group"]);
    expect(byGpu.lines[2]).toMatch(/^node-a:0\s/); // after the title and the header
    expect(byGpu.stdout).not.toContain("GPU-0000");
    const byGpuJson = await query(["report", "utilization", "--by", "gpu", "--json"]);
    expect(byGpuJson.stdout).toContain(a.fleet.hotUuid); // the API's keys, as they are

    const wrong = await query(["gpus", "--format", "xml"]);
    expect(wrong.code).toBe(64);
  });

  test("summary --csv: one row per figure with its unit and time span; gpu ID --csv: its values as one row, its flags as rows", async () => {
    // Both printed field,value lines (gpus.byState.ok,…; values.temperature_gpu_celsius,…), the
    // GPU's flags as one JSON array.
    const summary = await query(["summary", "--csv"]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.lines[0]).toBe("figure,key,value,unit,from,to");
    const s = JSON.parse((await query(["summary", "--json"])).stdout) as Summary;
    const figures = summary.lines.slice(1).map((l) => l.split(",").slice(0, 4).join(","));
    expect(figures).toContain("gpus,,12,gpus");
    for (const [state, n] of Object.entries(s.gpus.byState))
      expect(figures).toContain(`gpus,${state},${n},gpus`);
    expect(figures).toContain(`hosts,,${s.hosts.total},hosts`);
    expect(figures).toContain(`open_flags,overheat,${s.flags.byKind.overheat},flags`);
    expect(figures).toContain(`energy,,${s.utilization.range.energyKwh},kwh`);
    expect(figures).toContain(`busy,,${s.utilization.range.busyHours},gpu_h`);
    const rate = s.utilization.range.utilizationRate;
    expect(figures).toContain(`utilization,,${rate === null ? "" : Number((rate * 100).toFixed(3))},pct`);
    const range = summary.lines.find((l) => l.startsWith("busy,"))?.split(",") ?? [];
    expect(range.slice(4)).toEqual([
      new Date(s.utilization.range.fromMs).toISOString(),
      new Date(s.utilization.range.toMs).toISOString(),
    ]);
    // A figure of now spans the instant the summary was made.
    const now = summary.lines.find((l) => l.startsWith("utilization_now,"))?.split(",") ?? [];
    expect(now[4]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(now[5]).toBe(now[4]);

    const one = await query(["gpu", "node-a:3", "--csv"]);
    expect(one.code, one.stderr).toBe(0);
    const g = JSON.parse((await query(["gpu", "node-a:3", "--json"])).stdout) as GpuView;
    const header = one.lines[0]?.split(",") ?? [];
    expect(one.lines[0]).toMatch(/^entry,gpu,host,index,uuid,model,site,state,time,timestamp_ms,serial,/);
    // Every metric of the catalogue has its column, in its unit, whether this GPU reports it or not.
    for (const m of METRICS) expect(header).toContain(m.key);
    const cells = (line: string | undefined) =>
      Object.fromEntries(header.map((h, i) => [h, line?.split(",")[i]]));
    const gpuRow = cells(one.lines[1]);
    expect(gpuRow).toMatchObject({ entry: "gpu", gpu: "node-a:3", host: "node-a", index: "3", uuid: g.uuid });
    for (const m of METRICS) expect(gpuRow[m.key]).toBe(String(g.values[m.key] ?? ""));
    expect(gpuRow.temperature_gpu_celsius).not.toBe("");
    const flagRows = one.lines.slice(2).map(cells);
    expect(flagRows.map((f) => [f.entry, f.gpu, f.flag_kind, f.severity])).toEqual(
      g.flags.map((f) => ["flag", "node-a:3", f.kind, f.severity]),
    );
    expect(flagRows.map((f) => f.flag_kind)).toContain("overheat");
  });

  test("extra operands are bad usage (64), as for lease, report and token: nothing is asked", async () => {
    for (const [args, says] of [
      [["gpus", "extra"], 'gpus takes no operand (also given: "extra"); nothing was done'],
      [["summary", "a", "b"], 'summary takes no operand (also given: "a" "b")'],
      [["gpu", "node-a:3", "node-a:2"], 'gpu takes one GPU ID (also given: "node-a:2")'],
      [["report", "utilization", "energy"], 'report takes one KIND (also given: "energy")'],
      [["processes", "node-a:3", "x"], 'processes takes at most one GPU (also given: "x")'],
    ] as const) {
      const r = await query([...args]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(says);
    }
    // One operand where one is taken still answers.
    expect((await query(["gpu", "node-a:3", "--csv"])).code).toBe(0);
  });

  test("--sort FIELD[:desc] orders tables, CSV and JSON", async () => {
    const hot = await query(["gpus", "--sort", "temp:desc", "--csv"]);
    expect(hot.lines[1]).toMatch(/^node-a:3,/);
    const cool = await query(["gpus", "--sort", "temp"]);
    expect(cool.lines.at(-1)).toMatch(/^node-a:3\s/);
    const json = await query(["gpus", "--sort", "gpu:desc", "--json"]);
    const names = (JSON.parse(json.stdout) as { gpus: { host: string; index: number }[] }).gpus.map(
      (g) => `${g.host}:${g.index}`,
    );
    expect(names[0]).toBe("node-c:3");
    expect(names.at(-1)).toBe("node-a:0");
    const flags = await query(["flags", "--sort", "gpu", "--csv"]);
    const gpusOfFlags = flags.lines.slice(1).map((l) => l.split(",")[2] ?? "");
    expect(gpusOfFlags).toEqual(
      [...gpusOfFlags].sort((x, y) => x.localeCompare(y, undefined, { numeric: true })),
    );
    const report = await query(["report", "utilization", "--by", "host", "--sort", "group:desc", "--csv"]);
    expect(report.lines.slice(1, 4).map((l) => l.split(",")[0])).toEqual(["node-c", "node-b", "node-a"]);
    // A report sorts by its CSV column, and by the JSON field it writes (the name before units).
    const byCsvName = await query([
      "report",
      "utilization",
      "--by",
      "gpu",
      "--sort",
      "busy_gpu_h:desc",
      "--csv",
    ]);
    expect(byCsvName.code, byCsvName.stderr).toBe(0);
    const busy = byCsvName.lines.slice(1, -1).map((l) => Number(l.split(",")[2]));
    expect(busy).toEqual([...busy].sort((x, y) => y - x));
    expect(busy[0]).toBeGreaterThan(busy.at(-1) ?? 0);
    const byField = await query([
      "report",
      "utilization",
      "--by",
      "gpu",
      "--sort",
      "busyGpuHours:desc",
      "--csv",
    ]);
    expect(byField.stdout).toBe(byCsvName.stdout);
    // The CSV's names with units sort as the short names from before them do (scripts keep working).
    for (const [name, alias] of [
      ["temp_celsius", "temp"],
      ["util_pct", "util"],
      ["power_watts", "power"],
      ["memory_used_mib", "memory"],
    ]) {
      const byName = await query(["gpus", "--sort", `${name}:desc`, "--csv"]);
      expect(byName.code, byName.stderr).toBe(0);
      expect(byName.stdout).toBe((await query(["gpus", "--sort", `${alias}:desc`, "--csv"])).stdout);
    }
    expect((await query(["gpus", "--sort", "temp_celsius:desc", "--csv"])).lines[1]).toMatch(/^node-a:3,/);
    const longest = await query(["flags", "--sort", "for_ms:desc", "--csv"]);
    expect(longest.code, longest.stderr).toBe(0);
    const durations = longest.lines.slice(1).map((l) => Number(l.split(",")[7]));
    expect(durations).toEqual([...durations].sort((x, y) => y - x));
    expect((await query(["flags", "--sort", "for:desc", "--csv"])).stdout).toBe(longest.stdout);
    const unknown = await query(["gpus", "--sort", "colour"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--sort colour: sort by one of gpu, host, index/);
  });

  test("--since yesterday, today, last-month and a date, in this machine's zone", async () => {
    const now = new Date();
    const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    const range = async (since: string, extra: string[] = []) => {
      const r = await query(["report", "utilization", "--since", since, "--json", ...extra]);
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout) as { fromMs: number; toMs: number };
    };
    const yesterday = await range("yesterday");
    expect(yesterday.fromMs).toBe(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).getTime());
    expect(yesterday.toMs).toBe(midnight.getTime());
    const today = await range("today");
    expect(today.fromMs).toBe(midnight.getTime());
    expect(today.toMs).toBeGreaterThan(midnight.getTime());
    const lastMonth = await range("last-month");
    expect(lastMonth.fromMs).toBe(new Date(now.getFullYear(), now.getMonth() - 1, 1).getTime());
    expect(lastMonth.toMs).toBe(new Date(now.getFullYear(), now.getMonth(), 1).getTime());
    const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 3);
    const iso = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
    const dated = await range(iso, ["--until", "today"]);
    expect(dated.fromMs).toBe(day.getTime());
    expect(dated.toMs).toBe(midnight.getTime());
    const bad = await query(["report", "utilization", "--since", "2026-02-30"]);
    expect(bad.code).toBe(64);
  });

  test("a cut list says so on stderr, stdout stays data", async () => {
    const all = await query(["flags", "--csv"]);
    const open = all.lines.length - 1;
    expect(open).toBeGreaterThan(2);
    expect(all.stderr).toBe("");
    const cut = await query(["flags", "--limit", "2", "--csv"]);
    expect(cut.lines).toHaveLength(3);
    // Flags say how many were shown of how many, by kind (cli/query/flags-notice.ts).
    expect(cut.stderr).toMatch(
      /^gputel query: showing 2 of \d+ open flags \(.+\); raise --limit or narrow with --kind, --site, --host or --label\n$/,
    );
    const gpus = await query(["gpus", "--limit", "5"]);
    expect(gpus.lines).toHaveLength(6);
    expect(gpus.stderr).toBe("gputel query: showing 5 of 12; use --limit N for more\n");
  });
});
