// overheat: GPU temperature within a margin of the model's own slowdown temperature (inventory,
// else the sample's T.Limit headroom, else a configured ceiling), HBM temperature within a margin
// of its max (else a ceiling), or thermal slowdown active. Sustained to raise; cleared only when
// every signal that raised it is known and past the hysteresis for the clear duration.
import { formatDuration } from "../../../shared/duration.js";
import { THERMAL_SLOWDOWN_MASK } from "../../../shared/metrics.js";
import type { OverheatRule } from "../config.js";
import type { FlagValues } from "../types.js";
import { modelName, present, type RuleInput, type RuleResult, type Transition } from "./rule.js";
import {
  BAND,
  COOL,
  HOT,
  hotOrCool,
  type Signal,
  SUSTAIN_OFF,
  type SustainState,
  sustainStep,
} from "./sustain.js";

export type OverheatState = SustainState;
export const OVERHEAT_INITIAL: OverheatState = SUSTAIN_OFF;
export const OVERHEAT_SIGNALS = ["gpu", "memory", "thermal"];

interface Detail {
  describe: () => string;
  values: FlagValues;
}

/** hot when value >= raise point; cool when value <= raise point - hysteresis. */
function against(
  value: number | null | undefined,
  raisePoint: number,
  hysteresis: number,
): Signal | undefined {
  if (!present(value)) return undefined;
  return value >= raisePoint ? HOT : value <= raisePoint - hysteresis ? COOL : BAND;
}

// Each reading is judged on every sample (its signal) and described only when the flag opens
// (its detail); both follow the same basis, chosen in one place per reading.

/** What the GPU temperature is held against: the model's slowdown temperature, T.Limit, or the ceiling. */
function gpuBasis(input: RuleInput, rule: OverheatRule): "slowdown" | "tlimit" | "ceiling" | undefined {
  if (present(input.info?.temperature_slowdown_celsius)) return "slowdown";
  if (present(input.sample.temperature_gpu_tlimit_celsius)) return "tlimit";
  return rule.ceiling_c === null ? undefined : "ceiling";
}

function gpuSignal(input: RuleInput, rule: OverheatRule): Signal | undefined {
  const basis = gpuBasis(input, rule);
  const temp = input.sample.temperature_gpu_celsius;
  const slowdown = input.info?.temperature_slowdown_celsius as number;
  if (basis === "slowdown") return against(temp, slowdown - rule.margin_c, rule.clear_hysteresis_c);
  // T.Limit is the headroom (degrees below slowdown): it is hot when the headroom is within the margin.
  const headroom = -(input.sample.temperature_gpu_tlimit_celsius as number);
  if (basis === "tlimit") return against(headroom, -rule.margin_c, rule.clear_hysteresis_c);
  return basis === "ceiling" ? against(temp, rule.ceiling_c as number, rule.clear_hysteresis_c) : undefined;
}

function gpuDetail(input: RuleInput, rule: OverheatRule): Detail {
  const temp = input.sample.temperature_gpu_celsius;
  const slowdown = input.info?.temperature_slowdown_celsius;
  const tlimit = input.sample.temperature_gpu_tlimit_celsius;
  const model = modelName(input.info);
  switch (gpuBasis(input, rule)) {
    case "slowdown":
      return {
        describe: () =>
          `GPU temperature ${temp} °C is within ${rule.margin_c} °C of the ${model}'s slowdown temperature ${slowdown} °C`,
        values: {
          temperature_gpu_celsius: temp ?? null,
          slowdown_celsius: slowdown as number,
          margin_celsius: rule.margin_c,
        },
      };
    case "tlimit":
      return {
        describe: () =>
          `GPU temperature ${temp ?? "(unreported)"} °C is ${tlimit} °C below the ${model}'s slowdown temperature (T.Limit), within ${rule.margin_c} °C`,
        values: {
          temperature_gpu_celsius: temp ?? null,
          tlimit_headroom_celsius: tlimit as number,
          margin_celsius: rule.margin_c,
        },
      };
    case "ceiling":
      return {
        describe: () =>
          `GPU temperature ${temp} °C reached the configured ceiling ${rule.ceiling_c} °C (the ${model} reports no slowdown temperature)`,
        values: { temperature_gpu_celsius: temp ?? null, ceiling_celsius: rule.ceiling_c },
      };
    default:
      return { describe: () => "", values: {} };
  }
}

/** What the memory temperature is held against: the model's memory maximum, or the ceiling. */
function memoryBasis(input: RuleInput, rule: OverheatRule): "max" | "ceiling" | undefined {
  if (present(input.info?.temperature_memory_max_celsius)) return "max";
  return rule.memory_ceiling_c === null ? undefined : "ceiling";
}

function memorySignal(input: RuleInput, rule: OverheatRule): Signal | undefined {
  const basis = memoryBasis(input, rule);
  const temp = input.sample.temperature_memory_celsius;
  const raisePoint =
    basis === "max"
      ? (input.info?.temperature_memory_max_celsius as number) - rule.memory_margin_c
      : (rule.memory_ceiling_c as number);
  return basis === undefined ? undefined : against(temp, raisePoint, rule.clear_hysteresis_c);
}

function memoryDetail(input: RuleInput, rule: OverheatRule): Detail {
  const temp = input.sample.temperature_memory_celsius;
  const max = input.info?.temperature_memory_max_celsius;
  const model = modelName(input.info);
  switch (memoryBasis(input, rule)) {
    case "max":
      return {
        describe: () =>
          `Memory (HBM) temperature ${temp} °C is within ${rule.memory_margin_c} °C of the ${model}'s memory maximum ${max} °C`,
        values: { temperature_memory_celsius: temp ?? null, memory_max_celsius: max as number },
      };
    case "ceiling":
      return {
        describe: () =>
          `Memory temperature ${temp} °C reached the configured ceiling ${rule.memory_ceiling_c} °C`,
        values: { temperature_memory_celsius: temp ?? null, memory_ceiling_celsius: rule.memory_ceiling_c },
      };
    default:
      return { describe: () => "", values: {} };
  }
}

/** Thermal slowdown bits of the clock event reasons (ToInt32 keeps the low bits, where every NVML reason bit lives). */
function thermalSignal(input: RuleInput): Signal | undefined {
  const reasons = input.sample.clock_event_reasons;
  return present(reasons) ? hotOrCool((reasons & THERMAL_SLOWDOWN_MASK) !== 0) : undefined;
}

function thermalDetail(input: RuleInput): Detail {
  const reasons = input.sample.clock_event_reasons;
  return {
    describe: () => `Thermal slowdown is active (clock event reasons 0x${(reasons ?? 0).toString(16)})`,
    values: { clock_event_reasons: reasons ?? null },
  };
}

export function overheatStep(state: OverheatState, input: RuleInput): RuleResult<OverheatState> {
  const rule = input.rules.overheat;
  const signals = {
    gpu: gpuSignal(input, rule),
    memory: memorySignal(input, rule),
    thermal: thermalSignal(input),
  };
  const timing = { raiseMs: rule.raise_after_ms, clearMs: rule.clear_after_ms, maxStepMs: input.maxStepMs };
  const { state: next, change } = sustainStep(state, signals, input.t, timing);
  const transitions: Transition[] = [];
  if (change.type === "raise") {
    const details: Record<string, () => Detail> = {
      gpu: () => gpuDetail(input, rule),
      memory: () => memoryDetail(input, rule),
      thermal: () => thermalDetail(input),
    };
    const hotNow = Object.keys(signals).filter((k) => signals[k as keyof typeof signals]?.hot);
    const first = details[hotNow[0] ?? change.triggers[0] ?? "gpu"]?.();
    const values: FlagValues = { triggers: hotNow.join(",") };
    for (const key of hotNow) Object.assign(values, details[key]?.().values);
    const tlimit = input.sample.temperature_gpu_tlimit_celsius;
    const slowdown = input.info?.temperature_slowdown_celsius;
    const temp = input.sample.temperature_gpu_celsius;
    const atSlowdown =
      (present(tlimit) && tlimit <= 0) || (present(slowdown) && present(temp) && temp >= slowdown);
    const severity = signals.thermal?.hot || atSlowdown ? "critical" : "warning";
    const reason = `${first?.describe() ?? "Overheating"} for ${formatDuration(rule.raise_after_ms)}`;
    transitions.push({ type: "open", kind: "overheat", severity, startMs: change.startMs, reason, values });
  } else if (change.type === "clear") {
    transitions.push({ type: "close", kind: "overheat", endMs: change.endMs });
  }
  return { state: next, transitions };
}
