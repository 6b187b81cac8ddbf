// Per-GPU rule state: plain data, saved as JSON so a restart continues episodes.
import {
  ERROR_INITIAL,
  ERROR_SIGNALS,
  type ErrorState,
  errorStep,
  LOST_INITIAL,
  LOST_SIGNALS,
  type LostState,
} from "./rules/health.js";
import { IDLE_INITIAL, IDLE_SIGNALS, type IdleState, idleStep } from "./rules/idle.js";
import { LINK_INITIAL, type LinkState, linkStep } from "./rules/links.js";
import { OVERHEAT_INITIAL, OVERHEAT_SIGNALS, type OverheatState, overheatStep } from "./rules/overheat.js";
import type { RuleInput, Transition } from "./rules/rule.js";
import { SUSTAIN_OFF, type SustainState, sustainOn } from "./rules/sustain.js";
import {
  THROTTLED_INITIAL,
  THROTTLED_SIGNALS,
  type ThrottledState,
  throttledStep,
} from "./rules/throttled.js";
import type { Flag, FlagKind } from "./types.js";

export interface GpuTrack {
  host: string;
  uuid: string;
  index: number;
  site: string;
  labels: Record<string, string>;
  /** Timestamp of the newest sample evaluated; older ones (late replays) are not evaluated. */
  lastTs: number | null;
  idle: IdleState;
  overheat: OverheatState;
  throttled: ThrottledState;
  error: ErrorState;
  lost: LostState;
  /** pcie-degraded and nvlink-degraded timers (absent in states saved before they existed). */
  links?: LinkState;
}

/**
 * The kinds this track's rules raise and clear from the GPU's readings. A GPU removed on purpose
 * closes them (nothing will read it again); xid and reset-required close on their own evidence,
 * quiet spell or acknowledgement, which a removal is none of.
 */
export const READING_KINDS: readonly FlagKind[] = [
  "idle",
  "idle-held",
  "overheat",
  "throttled",
  "error",
  "lost",
  "pcie-degraded",
  "nvlink-degraded",
];

/** What a flag closed by the GPU's removal adds to its reason. */
export const REMOVED_REASON = "removed from the inventory";

export function newTrack(
  host: string,
  uuid: string,
  index: number,
  site: string,
  labels: Record<string, string>,
): GpuTrack {
  return {
    host,
    uuid,
    index,
    site,
    labels,
    lastTs: null,
    idle: IDLE_INITIAL,
    overheat: OVERHEAT_INITIAL,
    throttled: THROTTLED_INITIAL,
    error: ERROR_INITIAL,
    lost: LOST_INITIAL,
    links: LINK_INITIAL,
  };
}

/** Runs the sample rules (not lost) over one sample, in place; returns the transitions. */
export function evaluateSample(track: GpuTrack, input: RuleInput): Transition[] {
  const idle = idleStep(track.idle, input);
  const heat = overheatStep(track.overheat, input);
  const thr = throttledStep(track.throttled, input);
  const err = errorStep(track.error, input.sample, input.t, input.maxStepMs);
  const links = linkStep(track.links, input);
  track.links = links.state;
  track.idle = idle.state;
  track.overheat = heat.state;
  track.throttled = thr.state;
  track.error = err.state;
  // Most samples change nothing: idle's own array takes what the others raised, if anything.
  const all = idle.transitions;
  append(all, heat.transitions);
  append(all, thr.transitions);
  append(all, err.transitions);
  append(all, links.transitions);
  return all;
}

function append(all: Transition[], more: readonly Transition[]): void {
  if (more.length > 0) all.push(...more);
}

/** Ensures rule states agree with the open flags (after a restart or a rolled-back batch). */
export function reconcile(track: GpuTrack, open: (kind: FlagKind) => Flag | undefined): void {
  const idleFlag = open("idle") ?? open("idle-held");
  if (idleFlag && !track.idle.sustain.on) {
    track.idle = {
      sustain: sustainOn(idleFlag.startMs, IDLE_SIGNALS),
      kind: idleFlag.kind as "idle" | "idle-held",
      switchSinceMs: null,
    };
  } else if (idleFlag && track.idle.kind !== idleFlag.kind) {
    // Timers saved before the episode switched kind (a crash, a rolled-back batch): the open
    // flag is the episode, so the rule closes that one when the GPU gets busy.
    track.idle = { ...track.idle, kind: idleFlag.kind as "idle" | "idle-held", switchSinceMs: null };
  } else if (!idleFlag && track.idle.sustain.on) {
    track.idle = { ...IDLE_INITIAL, sustain: { ...SUSTAIN_OFF, lastMs: track.idle.sustain.lastMs } };
  }
  const heat = open("overheat");
  if (heat && !track.overheat.on) track.overheat = sustainOn(heat.startMs, OVERHEAT_SIGNALS);
  else if (!heat && track.overheat.on) track.overheat = OVERHEAT_INITIAL;
  const thr = open("throttled");
  if (thr && !track.throttled.sustain.on) {
    const lostMs = typeof thr.values.throttled_ms === "number" ? thr.values.throttled_ms : 0;
    track.throttled = { sustain: sustainOn(thr.startMs, THROTTLED_SIGNALS), lostMs, reportedMs: lostMs };
  } else if (!thr && track.throttled.sustain.on) track.throttled = THROTTLED_INITIAL;
  const err = open("error");
  if (err && !track.error.sustain.on)
    track.error = { ...track.error, sustain: sustainOn(err.startMs, ERROR_SIGNALS) };
  else if (!err && track.error.sustain.on) track.error = { ...track.error, sustain: SUSTAIN_OFF };
  const links = track.links ?? LINK_INITIAL;
  const pcie = open("pcie-degraded");
  const nvlink = open("nvlink-degraded");
  track.links = {
    ...links,
    pcie: reconciled(links.pcie, pcie, "link"),
    nvlink: reconciled(links.nvlink, nvlink, "links"),
  };
  const lost = open("lost");
  if (lost && !track.lost.sustain.on)
    track.lost = { sustain: sustainOn(lost.startMs, LOST_SIGNALS), missingSinceMs: null };
  else if (!lost && track.lost.sustain.on) track.lost = LOST_INITIAL;
}

function reconciled(state: SustainState, flag: Flag | undefined, signal: string): SustainState {
  if (flag && !state.on) return sustainOn(flag.startMs, [signal]);
  if (!flag && state.on) return SUSTAIN_OFF;
  return state;
}
