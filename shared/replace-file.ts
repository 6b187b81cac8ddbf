// The one way a state file is written: whole, to a temp file beside it, synced, renamed over the
// old one, then the directory synced. The rename alone is atomic for a crash of the process but
// not for a power cut: ext4 and xfs may commit the rename before the new file's data, leaving
// the file empty, and the rename itself lives in the directory until that is synced.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Replaces `path` with `content` (0600 when created): afterwards the old file or the new, never neither. */
export function replaceFileDurably(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
