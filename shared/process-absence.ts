// The fields of a process record (ProcessRecord.absent, proto/gputel/v1/process.proto) the agent
// may report absent, and how long its reason's text may be: one list for the agent that sends
// them and the collector that checks them, so neither drifts from the other.

/** used_memory: compute-apps gave none; sm/mem: no pmon value; proc: /proc unreadable; mig: no MIG device named. */
export const PROCESS_ABSENT_FIELDS = ["used_memory", "sm", "mem", "proc", "mig"] as const;

export type ProcessAbsentField = (typeof PROCESS_ABSENT_FIELDS)[number];

/** The agent cuts an absence's `why` to this many characters; the collector refuses a longer one. */
export const MAX_ABSENCE_WHY_LENGTH = 200;
