// Readers of the few /proc and passwd texts the holder lookup needs. Pure, never throw: a
// malformed text gives undefined. The command line is never among them (privacy: only the name
// nvidia-smi reports is kept).

/** Real uid from `/proc/PID/status` (`Uid:\treal\teffective\tsaved\tfs`). */
export function uidFromStatus(text: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Skips fields 3..21 of `/proc/PID/stat` from just after the name's ')' and takes field 22. */
const FIELD_22 = /\s*(?:\S+\s+){19}(\S+)/y;

/**
 * Field 22 of `/proc/PID/stat`, the start time in clock ticks after boot. The name (field 2) is
 * in parentheses and may itself hold spaces and ')', so fields are counted after the last ')'.
 */
export function startTicksFromStat(text: string): number | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // After ") " come fields 3 (state), 4, …: field 22 is the 20th of them. Skipped by a sticky
  // regex rather than split: the agent reads this for every GPU process, and split made ~50
  // strings a read (a tenth of what the processes source allocated).
  FIELD_22.lastIndex = close + 1;
  const ticks = FIELD_22.exec(text)?.[1];
  return ticks !== undefined && /^\d+$/.test(ticks) ? Number(ticks) : undefined;
}

/** `btime` of `/proc/stat`: boot time in seconds since the epoch. */
export function bootTimeFromStat(text: string): number | undefined {
  const m = /^btime\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Process start in ms since the epoch: boot time + start ticks. `btime` has whole seconds, so the
 * result is exact to within a second; with the pid it identifies one process life (a reused pid
 * gets a later start).
 */
export function startMs(bootTimeSec: number, startTicks: number, ticksPerSecond: number): number {
  return bootTimeSec * 1000 + Math.round((startTicks * 1000) / ticksPerSecond);
}

/** uid → user name from a passwd file (`name:x:uid:gid:gecos:home:shell`); the first name wins. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [name, , uid] = line.split(":");
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    const id = Number(uid);
    if (!names.has(id)) names.set(id, name);
  }
  return names;
}
