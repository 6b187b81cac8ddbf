// deploy/grafana/ against a real Prometheus (Debian's) that scrapes a real collector fed by real
// `gputel agent` children over `gputel mock-smi` (test/deploy/grafana-fleet.yaml): every panel's
// PromQL, with the dashboard's variables resolved by its own variable queries, returns data and
// no error. The same Prometheus loads deploy/prometheus/gputel-rules.yml: every rule evaluates
// without error and every recording rule has data. The JSON is type-checked against Grafana's
// dashboard schema: grafana-schema.test.ts.
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { waitFor } from "../helpers/net.js";
import { collectorConfig, tempDir } from "../scale/helpers.js";
import { type Prometheus, prometheusAvailable, startPrometheus } from "../scale/prometheus.js";
import { stopAgent } from "./fleet-e2e-harness.js";
import { type Dashboard, loadDashboards, resolveTargets, type Target } from "./grafana-helpers.js";

const available = prometheusAvailable();
const SCENARIO = `${ROOT}test/deploy/grafana-fleet.yaml`;
const AGENTS = [
  { host: "dash-a", site: "fra1", customer: "acme" },
  { host: "dash-b", site: "ams1", customer: "globex" },
];

/**
 * Leases through the collector's own API: dash-a's three GPUs (busy, idle, idle-held) to acme
 * with a price and a commitment, dash-b's A100 to globex; the RTX card stays for sale.
 */
async function leaseAllButOne(collector: RunningCollector): Promise<void> {
  const start = new Date(Date.now() - 3_600_000).toISOString();
  const gpus = collector.store.latest().sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index);
  const leases = gpus.slice(0, 4).map((g, i) => ({
    id: `lease-${i}`,
    device: g.uuid,
    tenant: g.host === "dash-a" ? "acme" : "globex",
    start,
    ...(g.host === "dash-a"
      ? { pricePerGpuHour: 2.5, currency: "EUR", committedAvailabilityPct: 99.5 }
      : { pricePerGpuHour: 3, currency: "USD" }),
  }));
  for (const lease of leases) {
    const r = await fetch(`http://127.0.0.1:${collector.httpPort}/api/v1/leases`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(lease),
    });
    expect(r.status, await r.text()).toBe(201);
  }
}

describe.skipIf(!available)("Grafana dashboards and Prometheus rules on a real Prometheus", () => {
  let prom: Prometheus;
  let collector: RunningCollector;
  let tmp: { dir: string; remove(): Promise<void> };
  const agents: Spawned[] = [];
  const dashboards: Dashboard[] = loadDashboards();

  beforeAll(async () => {
    tmp = await tempDir("gputel-grafana-");
    collector = await startCollector(
      collectorConfig({
        database: `${tmp.dir}/collector.db`,
        "flags.idle.duration": "2s",
        "flags.idle.clear_after": "1s",
        "flags.overheat.raise_after": "1s",
        "flags.overheat.ceiling_c": 80,
      }),
      silentLogger(),
    );
    for (const [i, a] of AGENTS.entries())
      agents.push(
        spawnGputel([
          "agent",
          "--config",
          "/dev/null",
          "--host",
          a.host,
          "--site",
          a.site,
          "--label",
          `customer=${a.customer}`,
          "--broker",
          `mqtt://127.0.0.1:${collector.mqttPort}`,
          "--interval",
          "250ms",
          "--state-dir",
          `${tmp.dir}/agent-${a.host}`,
          "--nvidia-smi",
          `${ROOT}bin/gputel mock-smi --scenario ${SCENARIO} --host-index ${i} --`,
        ]),
      );
    // One message ingest rejects (not a FrameBatch), so the reject series exist.
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5 });
    await waitFor(() => collector.store.latest().length === 5, 30_000, "5 GPUs stored");
    // The embedded broker refuses it (PUBACK 0x99, payload format invalid) after ingest counted it.
    await expect(
      client.publishAsync("gputel/v1/dash-a/frame", Buffer.from("not a frame"), { qos: 1 }),
    ).rejects.toMatchObject({ code: 0x99 });
    await client.endAsync();
    await leaseAllButOne(collector);
    prom = await startPrometheus({
      globalConfig: "  scrape_interval: 1s\n  evaluation_interval: 1s\n",
      extraConfig: [
        `rule_files: ["${ROOT}deploy/prometheus/gputel-rules.yml"]`,
        "scrape_configs:",
        "  - job_name: gputel",
        `    static_configs: [{ targets: ["127.0.0.1:${collector.httpPort}"] }]`,
        "",
      ].join("\n"),
    });
    // Flags open (idle, idle-held, overheat) and Prometheus has them after a few scrapes.
    await waitFor(
      async () => {
        const r = await prom.api<{ result: unknown[] }>("query", {
          query: 'count by (kind) (gputel_flag_open{kind=~"idle|idle-held|overheat"})',
        });
        const rejects = await prom.api<{ result: unknown[] }>("query", {
          query: "rate(gputel_ingest_rejected_total[1m])",
        });
        const leased = await prom.api<{ result: unknown[] }>("query", {
          query: "tenant:gputel_lease_idle_price_per_gpu_hour:sum",
        });
        return r.result.length === 3 && rejects.result.length > 0 && leased.result.length > 0;
      },
      60_000,
      "idle, idle-held and overheat flags, a reject and the leases scraped",
    );
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) await stopAgent(agent);
    await collector?.stop();
    await prom?.stop();
    await tmp?.remove();
  }, 60_000);

  it("ships the three dashboards", () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual([
      "gputel-fleet.json",
      "gputel-gpu.json",
      "gputel-tenant.json",
    ]);
  });

  it("every panel query returns data and no error", async () => {
    let checked = 0;
    const empty: string[] = [];
    for (const dashboard of dashboards) {
      const targets: Target[] = await resolveTargets(dashboard, prom);
      expect(targets.length, dashboard.file).toBeGreaterThan(4);
      for (const t of targets) {
        // The first set of variable values that gives data (a GPU without a fan has no fan series).
        let found = false;
        for (const expr of t.candidates) {
          const end = Date.now() / 1000;
          const data = t.instant
            ? await prom.api<{ result: unknown[] }>("query", { query: expr, time: String(end) })
            : await prom.api<{ result: unknown[] }>("query_range", {
                query: expr,
                start: String(end - 60),
                end: String(end),
                step: "2",
              });
          if (data.result.length > 0) {
            found = true;
            break;
          }
        }
        if (!found) empty.push(`${dashboard.file} "${t.panel}": ${t.expr}`);
        checked += 1;
      }
    }
    expect(empty).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  }, 120_000);

  it("every rule of deploy/prometheus evaluates without error, and every recording rule has data", async () => {
    type Rule = { name: string; type: string; health: string; lastError?: string };
    let rules: Rule[] = [];
    await waitFor(
      async () => {
        const data = await prom.api<{ groups: { rules: Rule[] }[] }>("rules", {});
        rules = data.groups.flatMap((g) => g.rules);
        return rules.length > 0 && rules.every((r) => r.health !== "unknown");
      },
      30_000,
      "every rule evaluated",
    );
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const r of rules) expect(`${r.name}: ${r.health} ${r.lastError ?? ""}`.trim()).toBe(`${r.name}: ok`);
    for (const r of rules.filter((x) => x.type === "recording")) {
      const data = await prom.api<{ result: unknown[] }>("query", { query: r.name });
      expect(data.result.length, r.name).toBeGreaterThan(0);
    }
  }, 60_000);
});
