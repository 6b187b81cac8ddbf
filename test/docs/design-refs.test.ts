// Comments cite the architecture as `docs/design.md §N`: every such section exists, and nothing
// cites a design or style document that is not in the repository.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const FOLDERS = [
  "agent",
  "bench",
  "cli",
  "collector",
  "docs",
  "mock-smi",
  "scripts",
  "shared",
  "systemd",
  "test",
];
const EXTENSIONS = [".ts", ".mjs", ".js", ".md", ".yaml", ".sql"];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "fixtures" || name === "generated") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (EXTENSIONS.some((e) => name.endsWith(e))) out.push(path);
  }
  return out;
}

const sources = [...FOLDERS.flatMap((f) => files(join(root, f))), join(root, "README.md")];
const design = readFileSync(join(root, "docs/design.md"), "utf8");
const sections = new Set([...design.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));

describe("design references", () => {
  it("every docs/design.md §N cited in the code is a section of docs/design.md", () => {
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/docs\/design\.md §(\d+)((?:[,;] ?§\d+)*)/g)) {
        const cited = [m[1], ...[...(m[2] ?? "").matchAll(/§(\d+)/g)].map((n) => n[1])];
        for (const n of cited) if (!sections.has(n ?? "")) missing.push(`${relative(root, file)}: §${n}`);
      }
    }
    expect(sections.size).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  it("nothing cites DESIGN §N or STYLE.md, documents that are not in the repository", () => {
    const stale = sources
      .filter((file) => !file.endsWith("design-refs.test.ts"))
      .filter((file) => /\bDESIGN §|\bSTYLE\.md\b/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file));
    expect(stale).toEqual([]);
  });
});
