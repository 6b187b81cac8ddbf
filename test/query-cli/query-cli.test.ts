// `gputel query` against live API servers over real stored data (in-process run(), real HTTP).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import type { Summary } from "../../collector/contract/api-contract.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";
import { freePort } from "../helpers/net.js";

const TOKEN = "cli-token-7";
let a: LiveApi;
let b: LiveApi;
let tokenFile: string;

beforeAll(async () => {
  a = await startLiveApi({ token: TOKEN });
  b = await startLiveApi({ token: TOKEN, firstHost: 3 });
  tokenFile = join(mkdtempSync(join(tmpdir(), "gputel-cli-")), "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

async function query(args: string[], env: NodeJS.ProcessEnv = {}, isTTY = false) {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { GPUTEL_API_TOKEN: TOKEN, ...env },
    isTTY,
  });
  return { code, stdout, stderr };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
const ESC = /\x1b\[/;

describe("one collector", () => {
  test("summary as a table and as the API's JSON", async () => {
    const t = await query(["summary", "--url", a.url]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^GPUs\s+12\s+\(ok 12\)$/m);
    expect(t.stdout).toMatch(/^Busy now\s+50\.0 %\s+\(6 of 12 known\)$/m);
    expect(t.stdout).toMatch(/overheat 1/);
    expect(t.stdout).not.toMatch(ESC); // not a TTY
    const j = await query(["summary", "--url", a.url, "--json", "--since", "2h"]);
    const s = JSON.parse(j.stdout) as Summary;
    expect(s.gpus.total).toBe(12);
    expect(s.utilization.range.toMs - s.utilization.range.fromMs).toBe(7_200_000);
  });

  test("gpus: aligned table; the hot GPU in red on a colour terminal, NO_COLOR respected", async () => {
    const plain = await query(["gpus", "--url", a.url]);
    const lines = plain.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(13);
    const tempColumn = (lines[0] ?? "").indexOf("TEMP");
    // Right-aligned numbers end where the header ends.
    for (const line of lines.slice(1))
      expect(line.slice(tempColumn, tempColumn + 5).trim()).toMatch(/°C$|^\d/);
    const hotLine = lines.find((l) => l.startsWith("node-a") && /\b3\b/.test(l.slice(6, 12)));
    expect(hotLine).toMatch(/90 °C.*overheat/);

    const colour = await query(["gpus", "--url", a.url, "--host", "node-a"], {}, true);
    expect(colour.stdout).toContain("\x1b[31m90 °C\x1b[0m");
    expect(colour.stdout).toContain("\x1b[31moverheat\x1b[0m");
    const noColour = await query(["gpus", "--url", a.url], { NO_COLOR: "1" }, true);
    expect(noColour.stdout).not.toMatch(ESC);
    const filtered = await query(["gpus", "--url", a.url, "--kind", "idle-held", "--json"]);
    expect((JSON.parse(filtered.stdout) as { total: number }).total).toBe(3);
  });

  test("gpu ID", async () => {
    const r = await query(["gpu", "node-a:3", "--url", a.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(a.fleet.hotUuid);
    expect(r.stdout).toMatch(/flag overheat\s+GPU temperature 90/);
    const missing = await query(["gpu", "node-a:9", "--url", a.url]);
    expect(missing.code).toBe(65); // refused: docs/errors.md, as gputel lease and report
    expect(missing.stderr).toContain("no GPU");
  });

  test("flags, open and history", async () => {
    const open = await query(["flags", "--url", a.url, "--kind", "overheat"]);
    const lines = open.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^overheat\s+critical\s+node-a:3\s+\S+Z\s+open\s+2h59m\s+GPU temperature/);
    const all = await query(["flags", "--url", a.url, "--state", "all", "--since", "24h", "--json"]);
    expect((JSON.parse(all.stdout) as { flags: unknown[] }).flags).toHaveLength(7);
  });

  test("reports grouped as asked", async () => {
    const u = await query(["report", "utilization", "--url", a.url, "--by", "host"]);
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(/^HOST\s+GPUS\s+BUSY h\s+IDLE h\s+IDLE-HELD h/m);
    // Busy share, then the mean utilization (issue 18: both, named apart), then busy incl. unknown.
    expect(u.stdout).toMatch(/BUSY SHARE\s+MEAN UTIL %\s+BUSY INCL\. UNKNOWN$/m);
    expect(u.stdout).toMatch(
      /^node-a\s+4\s+6\.0\s+3\.0\s+3\.0\s+0\.0\s+0\.0\s+0\.0\s+50\.0 %\s+47\.\d\s+50\.0 %$/m,
    );
    expect(u.stdout).toMatch(/^TOTAL\s+12\s+18\.0\s+9\.0\s+9\.0\s.*50\.0 %/m);
    const t = await query(["report", "thermal", "--url", a.url]);
    expect(t.stdout).toMatch(/Hottest GPUs/);
    // Named host:index (issue 18), the UUID last.
    expect(t.stdout).toMatch(new RegExp(`node-a:3\\s+.*90 °C\\s+${a.fleet.hotUuid}`));
  });
});

describe("errors", () => {
  test("connection refused names the URL and exits 69, as gputel lease and report", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await query(["summary", "--url", url]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`cannot reach the collector at ${url}: connection refused`);
    expect(r.stdout).toBe("");
  });

  test("a 4xx shows the API's message and parameter and exits 65 (refused)", async () => {
    const r = await query(["summary", "--url", a.url, "--since", "last-tuesday"]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/is not a time.*\(parameter from\)/);
    const by = await query(["report", "energy", "--url", a.url, "--by", "colour"]);
    expect(by.code).toBe(65);
    expect(by.stderr).toContain("(parameter by)");
    // Grouping is checked by the CLI itself when it merges several collectors: the same status.
    const merged = await query(["report", "energy", "--url", `${a.url},${b.url}`, "--by", "colour"]);
    expect(merged.code).toBe(65);
    expect(merged.stderr).toContain("(parameter by)");
  });

  test("token: missing is a clear 401 (exit 78); --token-file works", async () => {
    const none = await query(["summary", "--url", a.url], { GPUTEL_API_TOKEN: "" });
    expect(none.code).toBe(78);
    expect(none.stderr).toMatch(/unauthorized/);
    const file = await query(["summary", "--url", a.url, "--token-file", tokenFile], {
      GPUTEL_API_TOKEN: "",
    });
    expect(file.code).toBe(0);
  });

  test("usage errors exit 64", async () => {
    expect((await query(["frobnicate"])).code).toBe(64);
    expect((await query(["report"])).code).toBe(64);
    expect((await query(["summary", "--bogus"])).code).toBe(64);
    expect((await query(["summary", "--url", ","])).code).toBe(64);
    const sales = await query(["report", "sales", "--url", `${a.url},${b.url}`]);
    expect(sales.code).toBe(64);
    expect(sales.stderr).toContain("not merged across collectors: ask one collector at a time");
  });
});

describe("several collectors", () => {
  const both = () => ["--url", `${a.url},${b.url}`];

  test("summary counts and sums merge", async () => {
    const r = await query(["summary", ...both(), "--json"]);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.gpus.total).toBe(24);
    expect(s.hosts.total).toBe(6);
    expect(s.flags.byKind.overheat).toBe(2);
    expect(s.utilization.now).toEqual({ busy: 12, known: 24, rate: 0.5 });
    expect(s.utilization.range.utilizationRate).toBeCloseTo(0.5, 2);
  });

  test("gpus, flags, the utilization and the thermal report merge", async () => {
    const g = await query(["gpus", "--url", a.url, "--url", b.url, "--json"]);
    expect((JSON.parse(g.stdout) as { total: number }).total).toBe(24);
    const f = await query(["flags", ...both(), "--kind", "overheat", "--json"]);
    expect((JSON.parse(f.stdout) as { flags: { host: string }[] }).flags.map((x) => x.host).sort()).toEqual([
      "node-a",
      "node-d",
    ]);
    const u = await query(["report", "utilization", ...both(), "--by", "site"]);
    expect(u.stdout).toMatch(/^TOTAL\s+24\s+36\.0\s+18\.0\s+18\.0\s.*50\.0 %/m);
    // Thermal merges too (collector/merge/merge-fleet.ts): both collectors' GPUs, the hot ones first.
    const t = await query(["report", "thermal", ...both(), "--json"]);
    expect(t.code, t.stderr).toBe(0);
    const thermal = JSON.parse(t.stdout) as { hottest: { host: string }[]; total: { gpus: number } };
    expect(thermal.total.gpus).toBe(24);
    expect(new Set(thermal.hottest.slice(0, 2).map((x) => x.host))).toEqual(new Set(["node-a", "node-d"]));
  });

  test("gpu ID: from the collector that holds it; a GPU none holds is refused (65)", async () => {
    // Each collector is asked for its own data: the other answers that it does not hold the GPU.
    const r = await query(["gpu", "node-a:3", ...both(), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ uuid: a.fleet.hotUuid, host: "node-a", index: 3 });
    const missing = await query(["gpu", "node-a:9", ...both()]);
    expect(missing.code, missing.stderr).toBe(65);
    expect(missing.stderr).toContain('no GPU "node-a:9"');
  });
});
