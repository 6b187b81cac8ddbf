// A `database` path the collector cannot open as a file (a directory, a path under a regular file,
// a directory it may not create) is the configuration's fault, not a passing one: reported as
// GPUTEL_E_CONFIG naming the key and the path, so the CLI exits 78 and systemd does not restart it
// every 5 s (RestartPreventExitStatus=78). A full disk or a locked file stays a plain failure.
import { errorMessage, GputelError } from "../shared/errors.js";

/** Errors of the path itself, from mkdir/open (errno) or SQLite's open. */
const PATH_CODES = new Set([
  "ENOTDIR",
  "EEXIST",
  "EISDIR",
  "EACCES",
  "EPERM",
  "EROFS",
  "ELOOP",
  "ENAMETOOLONG",
  "SQLITE_CANTOPEN",
]);

/** The configuration error for a database path that cannot be opened; undefined for other failures. */
export function databasePathError(path: string, error: unknown): GputelError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !PATH_CODES.has(code)) return undefined;
  return new GputelError(
    "GPUTEL_E_CONFIG",
    `database: ${path} cannot be opened (${code}: ${errorMessage(error)})`,
    {},
    {
      cause: error,
    },
  );
}
