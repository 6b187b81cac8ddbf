// overheat: GPU temperature within a margin of the model's own slowdown temperature (inventory,
// else the sample's T.Limit headroom, else a configured ceiling), HBM temperature within a margin
// of its max (else a ceiling), or thermal slowdown active. Sustained to raise; cleared only when
// every signal that raised it is known and past the hysteresis for the clear duration.
import { formatDuration } from "../../../shared/duration.js";
import { THERMAL_SLOWDOWN_MASK } from "../../../shared/metrics.js";
import type { OverheatRule } from "../config.js";
import type { FlagValues } from "../types.js";
import { modelName, present, type RuleInput, type RuleResult, type Transition } from "./rule.js";
import { type Signal, SUSTAIN_OFF, type SustainState, sustainStep } from "./sustain.js";

export type OverheatState = SustainState;
export const OVERHEAT_INITIAL: OverheatState = SUSTAIN_OFF;
export const OVERHEAT_SIGNALS = ["gpu", "memory", "thermal"];

interface Reading {
  signal: Signal | undefined;
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
  return { hot: value >= raisePoint, cool: value <= raisePoint - hysteresis };
}

function gpuReading(input: RuleInput, rule: OverheatRule): Reading {
  const temp = input.sample.temperature_gpu_celsius;
  const slowdown = input.info?.temperature_slowdown_celsius;
  const tlimit = input.sample.temperature_gpu_tlimit_celsius;
  const model = modelName(input.info);
  if (present(slowdown)) {
    return {
      signal: against(temp, slowdown - rule.margin_c, rule.clear_hysteresis_c),
      describe: () =>
        `GPU temperature ${temp} °C is within ${rule.margin_c} °C of the ${model}'s slowdown temperature ${slowdown} °C`,
      values: {
        temperature_gpu_celsius: temp ?? null,
        slowdown_celsius: slowdown,
        margin_celsius: rule.margin_c,
      },
    };
  }
  if (present(tlimit)) {
    // T.Limit is the headroom (degrees below slowdown): it is hot when the headroom is within the margin.
    const headroom = -tlimit;
    return {
      signal: against(headroom, -rule.margin_c, rule.clear_hysteresis_c),
      describe: () =>
        `GPU temperature ${temp ?? "(unreported)"} °C is ${tlimit} °C below the ${model}'s slowdown temperature (T.Limit), within ${rule.margin_c} °C`,
      values: {
        temperature_gpu_celsius: temp ?? null,
        tlimit_headroom_celsius: tlimit,
        margin_celsius: rule.margin_c,
      },
    };
  }
  const ceiling = rule.ceiling_c;
  if (ceiling === null) return { signal: undefined, describe: () => "", values: {} };
  return {
    signal: against(temp, ceiling, rule.clear_hysteresis_c),
    describe: () =>
      `GPU temperature ${temp} °C reached the configured ceiling ${ceiling} °C (the ${model} reports no slowdown temperature)`,
    values: { temperature_gpu_celsius: temp ?? null, ceiling_celsius: ceiling },
  };
}

function memoryReading(input: RuleInput, rule: OverheatRule): Reading {
  const temp = input.sample.temperature_memory_celsius;
  const max = input.info?.temperature_memory_max_celsius;
  const model = modelName(input.info);
  if (present(max)) {
    return {
      signal: against(temp, max - rule.memory_margin_c, rule.clear_hysteresis_c),
      describe: () =>
        `Memory (HBM) temperature ${temp} °C is within ${rule.memory_margin_c} °C of the ${model}'s memory maximum ${max} °C`,
      values: { temperature_memory_celsius: temp ?? null, memory_max_celsius: max },
    };
  }
  const ceiling = rule.memory_ceiling_c;
  if (ceiling === null) return { signal: undefined, describe: () => "", values: {} };
  return {
    signal: against(temp, ceiling, rule.clear_hysteresis_c),
    describe: () => `Memory temperature ${temp} °C reached the configured ceiling ${ceiling} °C`,
    values: { temperature_memory_celsius: temp ?? null, memory_ceiling_celsius: ceiling },
  };
}

function thermalReading(input: RuleInput): Reading {
  const reasons = input.sample.clock_event_reasons;
  // ToInt32 keeps the low bits, where every NVML reason bit lives.
  const active = present(reasons) ? reasons & THERMAL_SLOWDOWN_MASK : undefined;
  return {
    signal: active === undefined ? undefined : { hot: active !== 0, cool: active === 0 },
    describe: () => `Thermal slowdown is active (clock event reasons 0x${(reasons ?? 0).toString(16)})`,
    values: { clock_event_reasons: reasons ?? null },
  };
}

export function overheatStep(state: OverheatState, input: RuleInput): RuleResult<OverheatState> {
  const rule = input.rules.overheat;
  const readings: Record<string, Reading> = {
    gpu: gpuReading(input, rule),
    memory: memoryReading(input, rule),
    thermal: thermalReading(input),
  };
  const signals = {
    gpu: readings.gpu?.signal,
    memory: readings.memory?.signal,
    thermal: readings.thermal?.signal,
  };
  const timing = { raiseMs: rule.raise_after_ms, clearMs: rule.clear_after_ms, maxStepMs: input.maxStepMs };
  const { state: next, change } = sustainStep(state, signals, input.t, timing);
  const transitions: Transition[] = [];
  if (change.type === "raise") {
    const hotNow = Object.keys(signals).filter((k) => signals[k as keyof typeof signals]?.hot);
    const first = readings[hotNow[0] ?? change.triggers[0] ?? "gpu"];
    const values: FlagValues = { triggers: hotNow.join(",") };
    for (const key of hotNow) Object.assign(values, readings[key]?.values);
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
