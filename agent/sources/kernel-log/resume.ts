// Where the kernel-log source stopped reading: the boot id of the kernel whose log it read and
// the last sequence number it handed over (kmsg `seq`, or the journal's sequence number), kept
// in <state_directory>/kernel-log.json. On start the reader replays the log from the boot's
// beginning (/dev/kmsg and `journalctl -k` both do); records at or below this position, of this
// boot, were published already and are skipped. Another boot id: the kernel rebooted, its log
// starts afresh, and nothing of the previous boot is in it.
import { readFileSync } from "node:fs";
import { replaceFileDurably } from "../../../shared/replace-file.js";

export interface ResumePosition {
  bootId: string;
  seq: number;
}

export function loadPosition(path: string): ResumePosition | undefined {
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    if (typeof data.boot_id === "string" && typeof data.seq === "number" && Number.isSafeInteger(data.seq))
      return { bootId: data.boot_id, seq: data.seq };
  } catch {
    // Missing or unreadable: start from the beginning of this boot's log (the collector stores
    // a re-sent event once: its key is host, boot id and sequence).
  }
  return undefined;
}

/** Replaces the file whole and durably, so a crash or power cut leaves the old or the new position. */
export function savePosition(path: string, position: ResumePosition): void {
  replaceFileDurably(path, `${JSON.stringify({ boot_id: position.bootId, seq: position.seq })}\n`);
}

/** True when the record was handed over before (same boot, at or below the saved sequence). */
export function seenBefore(position: ResumePosition | undefined, bootId: string, seq: number): boolean {
  return position !== undefined && position.bootId === bootId && seq <= position.seq;
}
