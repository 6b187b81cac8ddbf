// Recognising a corrupt spool file and moving it aside (with its WAL) so a fresh one can start.
import { existsSync, renameSync, rmSync } from "node:fs";

/** SQLITE_CORRUPT and its extended codes (SQLITE_CORRUPT_INDEX, …), SQLITE_NOTADB. */
export function isCorruptError(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("code" in error)) return false;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

export function isFullError(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return code === "SQLITE_FULL";
}

/** `2026-05-01T10-20-30-123Z`: sortable, and safe in file names everywhere. */
export function corruptSuffix(nowMs: number): string {
  return new Date(nowMs).toISOString().replaceAll(":", "-").replace(".", "-");
}

/**
 * Renames `<path>` (and `<path>-wal`) to `<path>.corrupt-<timestamp>[-wal]`; the shared-memory
 * index `<path>-shm` is only a cache of the WAL and is removed. Returns the new name of the file.
 */
export function moveAside(path: string, nowMs: number): string {
  let target = `${path}.corrupt-${corruptSuffix(nowMs)}`;
  for (let n = 1; existsSync(target); n += 1) target = `${path}.corrupt-${corruptSuffix(nowMs)}-${n}`;
  if (existsSync(path)) renameSync(path, target);
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${target}-wal`);
  rmSync(`${path}-shm`, { force: true });
  return target;
}
