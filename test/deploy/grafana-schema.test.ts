// deploy/grafana/*.json against Grafana's dashboard schema: the npm package @grafana/schema
// ships it as TypeScript types generated from Grafana's CUE schema (no JSON Schema is published
// on the registry), so each dashboard is written as an object literal typed `Dashboard` and
// compiled by tsc: wrong types, missing required fields and unknown keys are errors. A
// dashboard with a wrong field must fail the same check. Plus what the schema cannot say:
// unique uids and panel ids, the datasource variable on every panel and target.
import { describe, expect, it } from "vitest";
import { type TypedValue, typecheckValues } from "../helpers/tsc.js";
import { loadDashboards, panelsOf } from "./grafana-helpers.js";

// Grafana's variable syntax, not a template string.
const DATASOURCE = "\u0024{datasource}";
const dashboards = loadDashboards();
const typed = (name: string, value: unknown): TypedValue => ({
  name,
  type: "Dashboard",
  from: "@grafana/schema",
  value,
});

describe("Grafana dashboard JSON", () => {
  it("type-checks against @grafana/schema's Dashboard; a wrong field does not", async () => {
    const good = await typecheckValues(dashboards.map((d) => typed(d.file.replace(/\.json$/, ""), d.json)));
    expect(good.out).toBe("");
    expect(good.code).toBe(0);
    const broken = structuredClone(dashboards[0]?.json) as Record<string, unknown>;
    broken.schemaVersion = "39";
    broken.refreshEvery = "30s";
    const wrong = await typecheckValues([typed("broken", broken)]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/broken\.ts\(\d+,\d+\): error TS2322/);
  }, 60_000);

  it("unique uids and panel ids, every panel and target on the datasource variable", () => {
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
    for (const d of dashboards) {
      const panels = panelsOf(d);
      expect(new Set(panels.map((p) => (p as { id?: number }).id)).size, d.file).toBe(panels.length);
      expect(d.json.templating.list[0]).toMatchObject({
        name: "datasource",
        type: "datasource",
        query: "prometheus",
      });
      for (const p of panels.filter((x) => x.type !== "row")) {
        const withDs = p as { datasource?: { uid?: string }; targets?: { datasource?: { uid?: string } }[] };
        expect(withDs.datasource?.uid, p.title).toBe(DATASOURCE);
        for (const t of withDs.targets ?? []) expect(t.datasource?.uid, p.title).toBe(DATASOURCE);
      }
    }
  });
});
