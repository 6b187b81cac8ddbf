// docs/configuration.md and the commented examples (deploy/examples/*.yaml, which the docs name as
// the list of every key and the Debian package installs as /etc/gputel/*.yaml) stay true to the
// schemas: every schema key is shown in its example, every key a docs table names exists with the
// schema's default, and each example sets nothing but defaults beyond what the docs say it changes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentSchema, loadAgentConfig } from "../../agent/config.js";
import { SOURCE_NAMES } from "../../agent/sources/catalog.js";
import { collectorSchema, loadCollectorConfig } from "../../collector/config.js";
import { configKeys } from "../../shared/config/keys.js";
import type { LoadResult } from "../../shared/config/load.js";

const root = join(import.meta.dirname, "../..");
const ctx = { env: {}, hostname: "node-1" };
const programs = {
  agent: { keys: configKeys(agentSchema(ctx)), load: loadAgentConfig },
  collector: { keys: configKeys(collectorSchema(ctx)), load: loadCollectorConfig },
} as const;

/**
 * The key paths an example shows, set or commented out (`# key: value`, `#   nested: value`):
 * one leading "# " is dropped, then the indentation gives the nesting.
 */
function shownPaths(text: string): Set<string> {
  const paths = new Set<string>();
  const stack: { indent: number; name: string }[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\s*)(?:# ?)?(\s*)([a-z_]+):(?:\s|$)/.exec(line);
    if (!match) continue;
    const indent = (match[1] ?? "").length + (match[2] ?? "").length;
    while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
    stack.push({ indent, name: match[3] ?? "" });
    paths.add(stack.map((s) => s.name).join("."));
  }
  return paths;
}

function valid<T>(result: LoadResult<T>): T {
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.problems)}`);
  return result.config;
}

/** Paths (dotted) whose values differ between two loaded configurations. */
function differences(a: unknown, b: unknown, path = ""): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const names = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...names].flatMap((n) => differences(a[n], b[n], path ? `${path}.${n}` : n));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

const page = readFileSync(join(root, "docs/configuration.md"), "utf8");

/** Table rows of docs/configuration.md whose first cell is one `key.path`: key → default cell. */
function documentedDefaults(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of page.split("\n")) {
    const match = /^\|\s*`([a-z_]+\.[a-z_.]+|[a-z_]+_interval)`\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (match?.[1]) rows.set(match[1], match[2] ?? "");
  }
  return rows;
}

describe("deploy/examples and docs/configuration.md", () => {
  for (const [program, { keys }] of Object.entries(programs)) {
    it(`deploy/examples/${program}.yaml shows every key of the ${program}'s schema`, () => {
      const shown = shownPaths(readFileSync(join(root, `deploy/examples/${program}.yaml`), "utf8"));
      expect(keys.map((k) => k.path).filter((p) => !shown.has(p))).toEqual([]);
    });
  }

  it("the unknown-source problem it quotes lists the sources the registry knows", () => {
    const known = /unknown source "[^"]*" \(known: ([^)]*)\)/.exec(page)?.[1];
    expect(known?.split(", ")).toEqual([...SOURCE_NAMES]);
  });

  it("every key a table of docs/configuration.md names exists, with the schema's default", () => {
    const keys = [...programs.agent.keys, ...programs.collector.keys];
    const rows = documentedDefaults();
    expect(rows.size).toBeGreaterThan(20);
    for (const [path, cell] of rows) {
      const key = keys.find((k) => k.path === path);
      expect(key, `${path} is in no schema`).toBeDefined();
      const fallback: unknown = key?.schema.default;
      if (fallback === undefined) expect(cell, path).toMatch(/none|unset/);
      else expect(cell.split(" / ")[0]?.replaceAll("`", ""), path).toBe(String(fallback));
    }
  });

  it("each example sets the defaults, except the keys docs/configuration.md says it changes", () => {
    const empty = join(mkdtempSync(join(tmpdir(), "gputel-config-doc-")), "empty.yaml");
    writeFileSync(empty, "");
    const changed = {
      agent: differences(
        valid(loadAgentConfig({ file: join(root, "deploy/examples/agent.yaml"), ...ctx })),
        valid(loadAgentConfig({ file: empty, ...ctx })),
      ),
      collector: differences(
        valid(loadCollectorConfig({ file: join(root, "deploy/examples/collector.yaml"), ...ctx })),
        valid(loadCollectorConfig({ file: empty, ...ctx })),
      ),
    };
    const statement = /\(both validate as shipped and ([^)]*)\)/.exec(page.replaceAll("\n", " "))?.[1] ?? "";
    const named = {
      agent: [...statement.matchAll(/agent\.yaml[^;]*?`([a-z_.]+):/g)].map((m) => m[1]),
      collector: [...statement.matchAll(/collector\.yaml[^;]*?`([a-z_.]+):/g)].map((m) => m[1]),
    };
    expect(named).toEqual(changed);
  });
});
