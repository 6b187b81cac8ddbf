// What a flag is, as stored, served by the API and delivered as an alert.

export const FLAG_KINDS = [
  "idle",
  "idle-held",
  "overheat",
  "throttled",
  "stale",
  "offline",
  "lost",
  "error",
  "gpu-claim-conflict",
] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];
export type Severity = "info" | "warning" | "critical";

export type FlagValues = Record<string, number | string | boolean | null>;

export interface Flag {
  id: number;
  kind: FlagKind;
  severity: Severity;
  host: string;
  /** Null for host-level flags (stale, offline). */
  gpuUuid: string | null;
  gpuIndex: number | null;
  site: string;
  labels: Record<string, string>;
  startMs: number;
  /** Null while open. */
  endMs: number | null;
  /** A sentence with the numbers, for people. */
  reason: string;
  /** The values that triggered the flag (and, for throttled, the time lost so far). */
  values: FlagValues;
  updatedMs: number;
}

export interface FlagEvent {
  type: "opened" | "updated" | "closed";
  flag: Flag;
}

export type FlagListener = (event: FlagEvent) => void;

/** A flag before it has an id (what a rule asks to open). */
export type NewFlag = Omit<Flag, "id" | "endMs" | "updatedMs">;
