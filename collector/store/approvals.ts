// Operator approvals of GPU moves, written by `gputel collector approve-move` into the collector's
// database from another process (WAL: the running collector reads them when a claim comes in).
// Who may write the database file (the collector's user, root) is who may approve: admin only.
import Database from "better-sqlite3";
import { GputelError } from "../../shared/errors.js";
import { BUSY_TIMEOUT_MS } from "./busy.js";

export interface ApprovalResult {
  /** The host holding the GPU now; undefined when the collector has not seen the GPU. */
  owner: string | undefined;
}

export function approveGpuMove(path: string, uuid: string, toHost: string, nowMs: number): ApprovalResult {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    throw new GputelError("GPUTEL_E_STORE", `Cannot open database ${path}: ${(error as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'gpu_move_approvals'")
      .get();
    if (!table) {
      throw new GputelError(
        "GPUTEL_E_STORE",
        `${path} has no gpu_move_approvals table: start this collector version once to migrate it`,
      );
    }
    const owner = db
      .prepare("SELECT h.name FROM gpus g JOIN hosts h ON h.id = g.host_id WHERE g.uuid = ?")
      .pluck(true)
      .get(uuid) as string | undefined;
    db.prepare("INSERT OR REPLACE INTO gpu_move_approvals (uuid, to_host, approved_ms) VALUES (?, ?, ?)").run(
      uuid,
      toHost,
      nowMs,
    );
    return { owner };
  } finally {
    db.close();
  }
}
