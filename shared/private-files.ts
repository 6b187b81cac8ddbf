// Files and directories that hold fleet data or queued frames are the owner's only (0600/0700),
// whatever the umask: outside systemd (whose StateDirectory= is 0700 already) a umask of 022 would
// otherwise leave the collector's database and the agent's spool readable by every local user.
// Only what is created here gets these modes: an existing file or directory is left as it is.
import { chmodSync, closeSync, constants, fchmodSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Creates `dir` and its missing parents, each 0700. */
export function ensurePrivateDir(dir: string): void {
  const target = resolve(dir);
  const first = mkdirSync(target, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // mkdir's mode is masked by the umask: set it exactly on every directory made here.
  for (let d = target; ; d = dirname(d)) {
    chmodSync(d, 0o700);
    if (d === first || d === dirname(d)) break;
  }
}

/**
 * Creates `path` empty and 0600 when it does not exist. SQLite then gives the database's -wal and
 * -shm files the same mode (its unix VFS copies the database's permissions onto them).
 */
export function ensurePrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw error;
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** A database file and its directory, private; in-memory SQLite names are left alone. */
export function ensurePrivateDatabase(path: string): void {
  if (path === "" || path === ":memory:" || path.startsWith("file:")) return;
  ensurePrivateDir(dirname(path));
  ensurePrivateFile(path);
}
