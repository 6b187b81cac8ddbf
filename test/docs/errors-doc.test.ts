// docs/errors.md and the code's catalogues stay in step: every error code (shared/errors.ts) and
// every reject reason (collector/ingest/reasons.ts) is documented, with the code's own meaning for
// the codes, and nothing is documented that does not exist. The lists are read from the code.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REJECT_REASONS } from "../../collector/ingest/reasons.js";
import { ERROR_CODES } from "../../shared/errors.js";

const root = join(import.meta.dirname, "../..");
const page = readFileSync(join(root, "docs/errors.md"), "utf8");

/** The section under a level-1 or level-2 heading, up to the next heading of any level. */
function section(heading: string): string {
  const lines = page.split("\n");
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`docs/errors.md has no heading ${JSON.stringify(heading)}`);
  const end = lines.findIndex((l, i) => i > start && /^#{1,6} /.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** Table rows whose first cell is a `code` span: first cell → second cell. */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|/.exec(line);
    if (match?.[1]) rows.set(match[1], match[2] ?? "");
  }
  return rows;
}

describe("docs/errors.md", () => {
  it("documents every error code with the catalogue's meaning, and no other code", () => {
    const documented = tableRows(section("# Error codes"));
    const codes = Object.keys(ERROR_CODES);
    expect([...documented.keys()].sort()).toEqual([...codes].sort());
    for (const [code, meaning] of Object.entries(ERROR_CODES))
      expect(documented.get(code), code).toBe(meaning);
  });

  it("documents every reject reason, and no other", () => {
    const documented = tableRows(section("## Reject reasons"));
    expect([...documented.keys()].sort()).toEqual([...REJECT_REASONS].sort());
    for (const [reason, meaning] of documented) expect(meaning, reason).not.toBe("");
  });

  it("documents every error word the HTTP API answers with, and no other", () => {
    const answered = new Set<string>();
    for (const file of readdirSync(join(root, "collector"), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const text = readFileSync(join(root, "collector", file), "utf8");
      for (const m of text.matchAll(/(?:ApiError|LeaseError)\(\s*\d+,\s*"([a-z_]+)"/g))
        answered.add(m[1] as string);
      for (const m of text.matchAll(/\berror:\s*"([a-z_]+)"/g)) answered.add(m[1] as string);
    }
    const documented = tableRows(section("## HTTP API errors"));
    expect([...documented.keys()].sort()).toEqual([...answered].sort());
  });

  it("names no error code elsewhere in the docs that the catalogue lacks", () => {
    const files = ["README.md", ...readdirSync(join(root, "docs")).map((f) => join("docs", f))].filter((f) =>
      f.endsWith(".md"),
    );
    const unknown: string[] = [];
    for (const file of files) {
      for (const [code] of readFileSync(join(root, file), "utf8").matchAll(/GPUTEL_E_[A-Z0-9_]+/g)) {
        if (!(code in ERROR_CODES)) unknown.push(`${file}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
