// Opening the spool file, and replacing a corrupt one (moved aside, logged, a fresh one started).
import { dirname } from "node:path";
import { errorMessage, GputelError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import { ensurePrivateDir } from "../../shared/private-files.js";
import { isCorruptError, moveAside } from "./corrupt.js";
import { type CarriedCounters, SpoolStore, type StoreOptions } from "./spool-store.js";

export interface OpenOptions extends StoreOptions {
  logger: Logger;
  now?: () => number;
}

/** Opens the spool at `options.path`; a corrupt file is replaced, any other failure is GPUTEL_E_SPOOL. */
export function openOrReplace(options: OpenOptions, log: Logger): SpoolStore {
  try {
    ensurePrivateDir(dirname(options.path)); // the state directory: 0700 when created here
  } catch (error) {
    throw spoolError("Cannot create the spool directory", options.path, error);
  }
  try {
    return SpoolStore.open(options);
  } catch (error) {
    if (!isCorruptError(error)) throw spoolError("Cannot open the spool", options.path, error);
    return replaceCorrupt(options, log, error, { during: "open" });
  }
}

/**
 * Moves the corrupt file aside (GPUTEL_E_SPOOL_CORRUPT in the log, with where it went) and opens a
 * fresh one, carrying ids and drop counts over so they go on where they were.
 */
export function replaceCorrupt(
  options: OpenOptions,
  log: Logger,
  error: unknown,
  fields: Record<string, unknown>,
  carried?: CarriedCounters,
): SpoolStore {
  let movedTo: string;
  try {
    movedTo = moveAside(options.path, (options.now ?? Date.now)());
  } catch (moveError) {
    throw spoolError("Cannot move the corrupt spool aside", options.path, moveError);
  }
  log.error(
    { code: "GPUTEL_E_SPOOL_CORRUPT", path: options.path, movedTo, reason: errorMessage(error), ...fields },
    "Spool file corrupt; moved it aside and started a fresh one",
  );
  try {
    return SpoolStore.open(options, carried);
  } catch (openError) {
    throw spoolError("Cannot open the spool", options.path, openError);
  }
}

function spoolError(message: string, path: string, error: unknown): GputelError {
  if (error instanceof GputelError) return error;
  return new GputelError("GPUTEL_E_SPOOL", message, { path, reason: errorMessage(error) }, { cause: error });
}
