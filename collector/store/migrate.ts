// Applies collector/migrations/NNN_name.sql files in numeric order, each in its own
// transaction, recording applied versions so a restart applies only what is new.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "better-sqlite3";
import { GputelError } from "../../shared/errors.js";

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

const FILE = /^(\d+)_([\w.-]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export function listMigrations(dir: string): Migration[] {
  const found: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const match = FILE.exec(file);
    if (!match) continue;
    found.push({ version: Number(match[1]), name: match[2] as string, file: join(dir, file) });
  }
  found.sort((a, b) => a.version - b.version);
  for (let i = 1; i < found.length; i++) {
    if (found[i]?.version === found[i - 1]?.version) {
      throw new GputelError("GPUTEL_E_STORE", `Two migrations share version ${found[i]?.version}`, { dir });
    }
  }
  return found;
}

/** Applies pending migrations; returns the versions applied now. */
export function migrate(db: Database, dir = DEFAULT_MIGRATIONS_DIR, nowMs = Date.now()): number[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)",
  );
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)");
  const done: number[] = [];
  for (const m of listMigrations(dir)) {
    if (applied.has(m.version)) continue;
    const sql = readFileSync(m.file, "utf8");
    try {
      db.transaction(() => {
        db.exec(sql);
        record.run(m.version, m.name, nowMs);
      })();
    } catch (error) {
      throw new GputelError(
        "GPUTEL_E_STORE",
        `Migration ${m.version}_${m.name} failed`,
        { file: m.file },
        {
          cause: error,
        },
      );
    }
    done.push(m.version);
  }
  return done;
}
