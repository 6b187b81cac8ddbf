// deploy/prometheus/: `promtool check rules` and `promtool test rules` (Debian's prometheus
// package) on the shipped rules and their unit tests; every alert has a unit test, and a rule
// with a changed threshold makes the unit tests fail (they check the rules, not just run).
// That the metric names in the rules exist on a real collector is checked against a real
// Prometheus in test/deploy/grafana-dashboards.test.ts.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../helpers/cli.js";
import { toolAvailable } from "../helpers/tools.js";

const exec = promisify(execFile);
const PROMTOOL = process.env.GPUTEL_PROMTOOL ?? "/usr/bin/promtool";
const DIR = join(ROOT, "deploy/prometheus");
const have = toolAvailable({
  bins: [PROMTOOL],
  require: "PROMETHEUS",
  apt: "prometheus",
  what: "promtool rule tests",
});

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface TestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

async function promtool(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return exec(PROMTOOL, args, { cwd }).then(
    (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === "number" ? e.code : 1,
      out: `${e.stdout ?? ""}${e.stderr ?? ""}`,
    }),
  );
}

const rules = parse(readFileSync(join(DIR, "gputel-rules.yml"), "utf8")) as RuleFile;
const unitTests = parse(readFileSync(join(DIR, "tests/gputel-rules.test.yml"), "utf8")) as TestFile;
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!have)("Prometheus rules", () => {
  it("pass promtool check rules", async () => {
    const { code, out } = await promtool(["check", "rules", "gputel-rules.yml"], DIR);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
    expect(code, out).toBe(0);
  });

  it("pass their unit tests (promtool test rules)", async () => {
    const { code, out } = await promtool(["test", "rules", "gputel-rules.test.yml"], join(DIR, "tests"));
    expect(out).toContain("SUCCESS");
    expect(code, out).toBe(0);
  });

  it("every alert is tested firing, and every recording rule is evaluated by a test", () => {
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    const records = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    expect(alerts.length).toBeGreaterThanOrEqual(7);
    const firing = new Set(
      unitTests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    for (const alert of alerts) expect(firing.has(alert), alert).toBe(true);
    const text = readFileSync(join(DIR, "tests/gputel-rules.test.yml"), "utf8");
    for (const record of records) expect(text, record).toContain(`expr: ${record}`);
  });

  it("fail when a threshold is changed", async () => {
    const copy = mkdtempSync(join(tmpdir(), "gputel-rules-"));
    scratch.push(copy);
    cpSync(DIR, copy, { recursive: true });
    const file = join(copy, "gputel-rules.yml");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("> 300");
    writeFileSync(file, text.replace("> 300", "> 3000"));
    const { code, out } = await promtool(["test", "rules", "gputel-rules.test.yml"], join(copy, "tests"));
    expect(code).not.toBe(0);
    expect(out).toContain("GputelAgentStale");
  });
});
