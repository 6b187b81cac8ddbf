// deploy/grafana/*.json against Grafana's dashboard schema: the npm package @grafana/schema
// ships it as TypeScript types generated from Grafana's CUE schema (no JSON Schema is published
// on the registry), so each dashboard is written as an object literal typed `Dashboard` and
// compiled by tsc: wrong types, missing required fields and unknown keys are errors. A
// dashboard with a wrong field must fail the same check. Plus what the schema cannot say:
// unique uids and panel ids, the datasource variable on every panel and target.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { loadDashboards, panelsOf } from "./grafana-helpers.js";

const exec = promisify(execFile);
// Grafana's variable syntax, not a template string.
const DATASOURCE = "\u0024{datasource}";
const dashboards = loadDashboards();
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
// Inside the checkout, so that tsc resolves @grafana/schema from node_modules.
const work = mkdtempSync(join(ROOT, ".tmp", "grafana-schema-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function tsc(files: string[]): Promise<{ code: number; out: string }> {
  const args = [
    join(ROOT, "node_modules/typescript/bin/tsc"),
    "--noEmit",
    "--strict",
    "--exactOptionalPropertyTypes",
    "--skipLibCheck",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "es2022",
    ...files,
  ];
  return exec(process.execPath, args, { cwd: ROOT }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? 1, out: e.stdout ?? "" }),
  );
}

function typed(name: string, json: unknown): string {
  const file = join(work, `${name}.ts`);
  writeFileSync(
    file,
    `import type { Dashboard } from "@grafana/schema";\nexport const dashboard: Dashboard = ${JSON.stringify(json, null, 2)};\n`,
  );
  return file;
}

describe("Grafana dashboard JSON", () => {
  it("type-checks against @grafana/schema's Dashboard; a wrong field does not", async () => {
    const files = dashboards.map((d) => typed(d.file.replace(/\.json$/, ""), d.json));
    const broken = structuredClone(dashboards[0]?.json) as Record<string, unknown>;
    broken.schemaVersion = "39";
    broken.refreshEvery = "30s";
    const bad = typed("broken", broken);
    const good = await tsc(files);
    expect(good.out).toBe("");
    expect(good.code).toBe(0);
    const wrong = await tsc([bad]);
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
