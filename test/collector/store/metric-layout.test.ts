// A database holds one column per metric of the catalogue it was written with; another build
// must refuse it rather than misread it (collector/store/metric-layout.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { metricLayout } from "../../../collector/store/metric-layout.js";
import { Store } from "../../../collector/store/store.js";
import { silentLogger } from "../../../shared/logger.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "gputel-layout-"));
  dirs.push(dir);
  return join(dir, "collector.db");
}

describe("metric layout", () => {
  it("records this build's layout in a new database and opens it again", () => {
    const path = dbPath();
    Store.open(path, { logger: silentLogger() }).close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT value FROM store_meta WHERE key = 'metric_keys'").pluck().get()).toBe(
      metricLayout(),
    );
    db.close();
    expect(() => Store.open(path, { logger: silentLogger() }).close()).not.toThrow();
  });

  it("refuses a database written with another catalogue, naming the error code", () => {
    const path = dbPath();
    Store.open(path, { logger: silentLogger() }).close();
    const db = new Database(path);
    db.prepare("UPDATE store_meta SET value = ? WHERE key = 'metric_keys'").run(
      "utilization_gpu_pct,memory_used_mib",
    );
    db.close();
    expect(() => Store.open(path, { logger: silentLogger() })).toThrow(/written with 2 metrics per sample/);
  });

  it("refuses samples written before the layout was recorded", () => {
    const path = dbPath();
    Store.open(path, { logger: silentLogger() }).close();
    const db = new Database(path);
    db.prepare("DELETE FROM store_meta").run();
    db.prepare("INSERT INTO raw_recent (data) VALUES (?)").run(Buffer.from([0]));
    db.close();
    expect(() => Store.open(path, { logger: silentLogger() })).toThrow(
      /before the store recorded its metric layout/,
    );
  });
});
