// The docs send operators and contributors to files by their repository path (`collector/store/`,
// `shared/metrics.ts`): every such path names something that exists, so a file that moved or went
// takes its mentions with it. Placeholders (`NNN_name.sql`) and the example of a source yet to be
// written are the only names allowed to point nowhere.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const TOP =
  "agent|bench|cli|collector|deploy|docs|mock-smi|packaging|proto|scenarios|scripts|shared|systemd|test";
const PATH = new RegExp(`(?:^|[\\s(\`\\[])((?:${TOP})/[A-Za-z0-9_./-]*[A-Za-z0-9_/])`, "g");
const NOT_FILES = [/NNN_/, /^agent\/sources\/dcgm\/$/];

const pages = [
  "README.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`),
  "collector/api/README.md",
  "collector/store/README.md",
  "systemd/README.md",
].filter((f) => f.endsWith(".md"));

describe("repository paths in the docs", () => {
  it("every path a page names exists", () => {
    const missing: string[] = [];
    for (const page of pages) {
      for (const m of readFileSync(join(root, page), "utf8").matchAll(PATH)) {
        const path = m[1] as string;
        if (NOT_FILES.some((r) => r.test(path))) continue;
        if (!existsSync(join(root, path))) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
