// SQL for API tokens (migration 050_leases.sql): only a token's SHA-256 digest is stored.
import Database, { type Database as Db } from "better-sqlite3";
import { BUSY_TIMEOUT_MS } from "./busy.js";
import { LeaseStore } from "./leases.js";
import { migrate } from "./migrate.js";

export interface TokenRecord {
  id: string;
  role: string;
  note: string;
  createdMs: number;
  revokedMs: number | null;
}

interface TokenRow {
  id: string;
  role: string;
  note: string;
  created_ms: number;
  revoked_ms: number | null;
}

const toRecord = (r: TokenRow): TokenRecord => ({
  id: r.id,
  role: r.role,
  note: r.note,
  createdMs: r.created_ms,
  revokedMs: r.revoked_ms,
});

function tokenStatements(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insert: p("INSERT INTO api_tokens (id, role, digest, note, created_ms) VALUES (?, ?, ?, ?, ?)"),
    list: p("SELECT id, role, note, created_ms, revoked_ms FROM api_tokens ORDER BY created_ms, id"),
    revoke: p("UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL"),
    get: p("SELECT id, role, note, created_ms, revoked_ms FROM api_tokens WHERE id = ?"),
    byDigest: p("SELECT id, role, note, created_ms, revoked_ms FROM api_tokens WHERE digest = ?"),
  };
}

export class TokenStore {
  private readonly s: ReturnType<typeof tokenStatements>;

  constructor(db: Db) {
    this.s = tokenStatements(db);
  }

  insert(id: string, role: string, digestHex: string, note: string, nowMs: number): void {
    this.s.insert.run(id, role, digestHex, note, nowMs);
  }

  list(): TokenRecord[] {
    return (this.s.list.all() as TokenRow[]).map(toRecord);
  }

  get(id: string): TokenRecord | undefined {
    const row = this.s.get.get(id) as TokenRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Marks the token revoked; false when there is no such token or it was revoked already. */
  revoke(id: string, nowMs: number): boolean {
    return this.s.revoke.run(nowMs, id).changes > 0;
  }

  /** The live (not revoked) token with this digest. */
  byDigest(digestHex: string): TokenRecord | undefined {
    const row = this.s.byDigest.get(digestHex) as TokenRow | undefined;
    return row && row.revoked_ms === null ? toRecord(row) : undefined;
  }
}

/**
 * The token table of an existing collector database, for `gputel token` on the collector's host
 * (the collector may be running: WAL lets both in, a busy timeout waits out its commits).
 */
export function openTokenStore(path: string): {
  tokens: TokenStore;
  /** The leases, so that a tenant token for a tenant no lease names can be warned of. */
  leases: Pick<LeaseStore, "tenantsNamed">;
  close(): void;
} {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    migrate(db);
    return { tokens: new TokenStore(db), leases: new LeaseStore(db), close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}
