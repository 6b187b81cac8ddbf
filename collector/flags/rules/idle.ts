// idle / idle-held: utilization below the threshold continuously for a duration. Held when
// memory is allocated or compute processes are present; on MIG GPUs (no utilization) the
// decision comes from memory and processes, through the same classifySample as the rollups.
import { formatDuration } from "../../../shared/duration.js";
import type { IGpuSample } from "../../../shared/proto.js";
import { classifySample, type UsageClass } from "../../usage/classify.js";
import type { IdleRule } from "../config.js";
import type { FlagValues } from "../types.js";
import { present, type RuleInput, type RuleResult, type Transition } from "./rule.js";
import { COOL, HOT, type Signals, SUSTAIN_OFF, type SustainState, sustainStep } from "./sustain.js";

export type IdleKind = "idle" | "idle-held";

export interface IdleState {
  sustain: SustainState;
  /** The kind of the open flag, null when none is open. */
  kind: IdleKind | null;
  /** Since when the class has been the other idle kind (idle <-> idle-held switch pending). */
  switchSinceMs: number | null;
}

export const IDLE_INITIAL: IdleState = { sustain: SUSTAIN_OFF, kind: null, switchSinceMs: null };
export const IDLE_SIGNALS = ["usage"];

function kindOf(usage: UsageClass): IdleKind | undefined {
  if (usage === "idle") return "idle";
  if (usage === "idle_held") return "idle-held";
  return undefined;
}

function values(sample: IGpuSample, rule: IdleRule): FlagValues {
  const mig = !present(sample.utilization_gpu_pct) && sample.mig_mode === true;
  return {
    utilization_gpu_pct: sample.utilization_gpu_pct ?? null,
    memory_used_mib: sample.memory_used_mib ?? null,
    compute_processes: sample.compute_processes ?? null,
    mig_mode: sample.mig_mode ?? null,
    threshold_pct: rule.utilization_pct,
    held_memory_mib: rule.held_memory_mib,
    decided_from: mig ? "memory_and_processes" : "utilization",
  };
}

function reason(kind: IdleKind, sample: IGpuSample, rule: IdleRule): string {
  const held: string[] = [];
  const mem = sample.memory_used_mib;
  const procs = sample.compute_processes;
  if (present(mem) && mem > rule.held_memory_mib)
    held.push(`${mem} MiB of memory allocated (> ${rule.held_memory_mib} MiB)`);
  if (present(procs) && procs > 0) held.push(`${procs} compute process${procs === 1 ? "" : "es"} present`);
  const duration = formatDuration(rule.duration_ms);
  if (!present(sample.utilization_gpu_pct)) {
    // classifySample makes a MIG GPU idle only with no compute process (count known 0, or memory low).
    const processes = present(procs) ? "no compute process" : "process count not reported";
    const memory = present(mem)
      ? `${mem} MiB of memory used (held above ${rule.held_memory_mib} MiB)`
      : "memory use not reported";
    return `MIG mode: utilization is not reported, so idleness is decided from memory and processes: ${processes}, ${memory}, for ${duration}`;
  }
  const base = `GPU utilization ${sample.utilization_gpu_pct} % has been below ${rule.utilization_pct} % for ${duration}`;
  return kind === "idle-held" ? `${base} while ${held.join(" and ")}` : base;
}

export function idleStep(state: IdleState, input: RuleInput): RuleResult<IdleState> {
  const rule = input.rules.idle;
  const usage = classifySample(input.sample, {
    utilizationPct: rule.utilization_pct,
    heldMemoryMib: rule.held_memory_mib,
  });
  const current = kindOf(usage);
  const signals: Signals = { usage: usage === "unknown" ? undefined : current ? HOT : COOL };
  const timing = { raiseMs: rule.duration_ms, clearMs: rule.clear_after_ms, maxStepMs: input.maxStepMs };
  const { state: sustain, change } = sustainStep(state.sustain, signals, input.t, timing);
  const transitions: Transition[] = [];

  if (change.type === "raise" && current) {
    transitions.push(opening(current, change.startMs, input.sample, rule));
    return { state: { sustain, kind: current, switchSinceMs: null }, transitions };
  }
  if (change.type === "clear" && state.kind) {
    transitions.push({ type: "close", kind: state.kind, endMs: change.endMs });
    return { state: { sustain, kind: null, switchSinceMs: null }, transitions };
  }
  // Still idle but of the other kind (memory freed, or a process attached): switch once it has lasted.
  if (sustain.on && state.kind && current && current !== state.kind) {
    const since = state.switchSinceMs ?? input.t;
    if (input.t - since >= rule.clear_after_ms) {
      transitions.push({ type: "close", kind: state.kind, endMs: since });
      transitions.push(opening(current, since, input.sample, rule));
      return { state: { sustain, kind: current, switchSinceMs: null }, transitions };
    }
    return { state: { sustain, kind: state.kind, switchSinceMs: since }, transitions };
  }
  const switchSinceMs = current === undefined ? state.switchSinceMs : null;
  const kind = sustain.on ? state.kind : null;
  if (sustain === state.sustain && kind === state.kind && switchSinceMs === state.switchSinceMs)
    return { state, transitions };
  return { state: { sustain, kind, switchSinceMs }, transitions };
}

function opening(kind: IdleKind, startMs: number, sample: IGpuSample, rule: IdleRule): Transition {
  return {
    type: "open",
    kind,
    severity: kind === "idle-held" ? "warning" : "info",
    startMs,
    reason: reason(kind, sample, rule),
    values: values(sample, rule),
  };
}
