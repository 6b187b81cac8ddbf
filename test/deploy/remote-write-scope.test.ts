// What remote_write carries against what the shipped rules and dashboards read: remote_write sends
// the per-GPU readings of shared/metrics.ts only, so the flags, gputel_gpu_up, leases, Xid and
// ingest families the rules and most panels use exist only on /metrics. The deploy docs must say
// that a Prometheus fed by remote_write alone cannot serve them, not that either way works.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../shared/metrics.js";
import { ROOT } from "../helpers/cli.js";

const RULES = join(ROOT, "deploy/prometheus/gputel-rules.yml");
const GRAFANA = join(ROOT, "deploy/grafana");
const dashboards = readdirSync(GRAFANA)
  .filter((f) => f.endsWith(".json"))
  .map((f) => join(GRAFANA, f));

/** Metric names a text reads (recording rules' names, which hold colons, left out). */
function namesUsed(text: string): Set<string> {
  return new Set((text.match(/[a-z_:]*gputel_[a-z_:]+/g) ?? []).filter((n) => !n.includes(":")));
}

describe("remote_write and the shipped rules and dashboards", () => {
  const rules = readFileSync(RULES, "utf8");
  const sent = new Set(METRICS.map((m) => m.prom.name));
  const needed = new Set([
    ...namesUsed(rules),
    ...dashboards.flatMap((f) => [...namesUsed(readFileSync(f, "utf8"))]),
  ]);
  const scrapeOnly = [...needed].filter((n) => !sent.has(n)).sort();

  it("the rules and dashboards read families remote_write does not send", () => {
    expect(scrapeOnly).toContain("gputel_flag_open");
    expect(scrapeOnly).toContain("gputel_gpu_up");
  });

  it("the docs say those families need a scrape of /metrics, not that remote_write alone serves them", () => {
    for (const file of [
      RULES,
      join(ROOT, "deploy/prometheus/README.md"),
      join(GRAFANA, "README.md"),
      ...dashboards,
    ]) {
      const text = readFileSync(file, "utf8");
      expect(text, file).not.toMatch(/same (metric )?names and labels|either way|or remote_write\)/i);
    }
    for (const readme of [join(ROOT, "deploy/prometheus/README.md"), join(GRAFANA, "README.md")])
      expect(readFileSync(readme, "utf8"), readme).toContain("only on `/metrics`");
  });
});
