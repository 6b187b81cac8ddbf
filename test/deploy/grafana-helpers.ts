// Reads deploy/grafana/*.json and turns every panel target into runnable PromQL: Grafana's
// built-in variables get fixed values, and the dashboard's own variables are resolved by running
// their label_values() queries against the Prometheus under test (in order, so $host may use
// $site). A variable with "All" takes its allValue, as a freshly opened dashboard does.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/cli.js";
import type { Prometheus } from "../scale/prometheus.js";

export const GRAFANA_DIR = join(ROOT, "deploy/grafana");

interface PanelJson {
  title: string;
  type: string;
  targets?: { expr?: string; instant?: boolean }[];
  panels?: PanelJson[];
}

interface VariableJson {
  name: string;
  type: string;
  query?: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  file: string;
  json: { uid: string; title: string; panels: PanelJson[]; templating: { list: VariableJson[] } };
}

export interface Target {
  panel: string;
  expr: string;
  instant: boolean;
  /** The expression under each assignment of the dashboard's variables. */
  candidates: string[];
}

// Grafana's built-in interval variables, for a 5-minute dashboard range.
const BUILTINS: [RegExp, string][] = [
  [/\$__range_s\b/g, "300"],
  [/\$__range\b/g, "5m"],
  [/\$__rate_interval\b/g, "1m"],
  [/\$__interval\b/g, "15s"],
];

export function loadDashboards(): Dashboard[] {
  return readdirSync(GRAFANA_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((file) => ({
      file,
      json: JSON.parse(readFileSync(join(GRAFANA_DIR, file), "utf8")) as Dashboard["json"],
    }));
}

export function panelsOf(dashboard: Dashboard): PanelJson[] {
  return dashboard.json.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

function substitute(text: string, values: Record<string, string>): string {
  let out = text;
  for (const [re, value] of BUILTINS) out = out.replace(re, value);
  for (const [name, value] of Object.entries(values))
    out = out.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}\\b`, "g"), value);
  return out;
}

/** label_values(selector, label) → the label's values among the series the selector matches. */
async function labelValues(query: string, prom: Prometheus): Promise<string[]> {
  const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query.trim());
  if (!m) throw new Error(`unsupported variable query: ${query}`);
  const values = await prom.api<string[]>(`label/${m[2]}/values`, { "match[]": m[1] as string });
  return values.filter((v) => v !== "");
}

async function assignments(dashboard: Dashboard, prom: Prometheus): Promise<Record<string, string>[]> {
  let out: Record<string, string>[] = [{}];
  for (const v of dashboard.json.templating.list) {
    if (v.type !== "query") continue;
    const next: Record<string, string>[] = [];
    for (const a of out) {
      const query = substitute(typeof v.query === "string" ? (v.query ?? "") : (v.query?.query ?? ""), a);
      const values = await labelValues(query, prom);
      if (values.length === 0)
        throw new Error(`${dashboard.file}: variable ${v.name} (${query}) has no values`);
      if (v.includeAll) next.push({ ...a, [v.name]: v.allValue ?? ".*" });
      else for (const value of values) next.push({ ...a, [v.name]: value });
    }
    out = next;
  }
  return out;
}

export async function resolveTargets(dashboard: Dashboard, prom: Prometheus): Promise<Target[]> {
  const sets = await assignments(dashboard, prom);
  return panelsOf(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => {
      if (!t.expr) throw new Error(`${dashboard.file} "${p.title}": a target without expr`);
      const expr = t.expr;
      return {
        panel: p.title,
        expr,
        instant: t.instant === true,
        candidates: sets.map((a) => substitute(expr, a)),
      };
    }),
  );
}
