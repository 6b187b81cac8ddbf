// All of the collector's SQL lives in collector/store/: no other program file prepares or runs a
// statement, opens a database or reaches into the store's internals. The agent's spool is the
// one other database (its own file, agent/spool/), and keeps its SQL in that folder.
import { describe, expect, it } from "vitest";
import { type SourceFile, sourceFiles } from "./source-tree.js";

const SQL_HOMES = ["collector/store/", "agent/spool/"];

/** `.prepare(`, `.pragma(`, a database's `.exec(` (not RegExp#exec: its receiver is a pattern). */
const STATEMENT = /\.(?:prepare|pragma)\s*\(|\b(?:db|database|sqlite)\s*\.\s*exec\s*\(/i;
const DRIVER = /from\s+["']better-sqlite3["']/;
/** Members Store marks internal, and its database handle. */
const STORE_INTERNALS = /\bstore\??\.(?:raw|stmts|db)\b/;

function offences(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (SQL_HOMES.some((home) => file.path.startsWith(home))) continue;
    file.text.split("\n").forEach((line, i) => {
      if (STATEMENT.test(line) || DRIVER.test(line) || STORE_INTERNALS.test(line))
        out.push(`${file.path}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

describe("the store's boundary", () => {
  it("keeps every SQL statement and the store's internals inside collector/store/", () => {
    const files = sourceFiles();
    expect(files.some((f) => f.path === "collector/store/store.ts")).toBe(true);
    expect(offences(files)).toEqual([]);
  });

  it("catches a statement, the driver and the internals outside, but not a RegExp", () => {
    const file = (text: string): SourceFile => ({ path: "collector/api/x.ts", text });
    expect(offences([file('const rows = this.db.prepare("SELECT 1").all();')])).toHaveLength(1);
    expect(offences([file('db.exec("DELETE FROM t");')])).toHaveLength(1);
    expect(offences([file('import Database from "better-sqlite3";')])).toHaveLength(1);
    expect(offences([file("const h = store.raw.hostsById;")])).toHaveLength(1);
    expect(offences([file("const m = PATTERN.exec(text);")])).toEqual([]);
    expect(offences([{ path: "collector/store/y.ts", text: 'db.prepare("SELECT 1")' }])).toEqual([]);
  });
});
