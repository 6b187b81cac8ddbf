// pcie-degraded and nvlink-degraded: the GPU's links run below what they can.
// PCIe: the link generation or width below the GPU's maximum while the GPU is under load
// (flags.pcie.load_pct), for flags.pcie.raise_after; cleared after flags.pcie.clear_after at it.
// Idle GPUs lower their link generation to save power, so below load nothing is judged (the timer
// freezes). NVLink: links down or below their speed (nvidia-smi nvlink -s, a slow poll), raised
// and cleared on the poll that shows it; or error counters rising (nvlink -e: at least
// flags.nvlink.min_errors more replay/recovery/CRC errors than the previous reading), cleared once
// they have held steady for flags.nvlink.clear_after. A standing count is not judged (it may be
// months old), nor a drop (the counters reset with the driver). Absent values freeze the timers.
import type { FlagValues } from "../types.js";
import { present, type RuleInput, type RuleResult, type Transition } from "./rule.js";
import { hotOrCool, type Signals, SUSTAIN_OFF, type SustainState, sustainStep } from "./sustain.js";

export interface LinkState {
  pcie: SustainState;
  nvlink: SustainState;
  /** The last nvlink_errors reading, and when it last rose (absent in states saved before). */
  nvlinkErrors?: NvlinkErrorsState;
}

export interface NvlinkErrorsState {
  last: number | null;
  roseAtMs: number | null;
  /** Errors added by that rise. */
  rise: number;
}

const ERRORS_INITIAL: NvlinkErrorsState = { last: null, roseAtMs: null, rise: 0 };

export const LINK_INITIAL: LinkState = {
  pcie: SUSTAIN_OFF,
  nvlink: SUSTAIN_OFF,
  nvlinkErrors: ERRORS_INITIAL,
};

/** Follows nvlink_errors: a rise of at least minErrors since the previous reading is recorded. */
function errorsStep(prev: NvlinkErrorsState, value: number | undefined, t: number, minErrors: number) {
  if (value === undefined) return prev;
  if (prev.last !== null && value - prev.last >= minErrors)
    return { last: value, roseAtMs: t, rise: value - prev.last };
  return value === prev.last ? prev : { ...prev, last: value };
}

export function linkStep(state: LinkState | undefined, input: RuleInput): RuleResult<LinkState> {
  const prev = state ?? LINK_INITIAL;
  const transitions: Transition[] = [];
  const s = input.sample;
  const { pcie_link_gen: gen, pcie_link_gen_max: genMax, pcie_link_width: width } = s;
  const widthMax = s.pcie_link_width_max;
  const util = s.utilization_gpu_pct;
  const known = present(gen) && present(genMax) && present(width) && present(widthMax) && present(util);
  const rule = input.rules.pcie;
  const loaded = known && util >= rule.load_pct;
  const below = loaded && (gen < genMax || width < widthMax);
  const pcieSignals: Signals = { link: loaded ? hotOrCool(below) : undefined };
  const pcie = sustainStep(prev.pcie, pcieSignals, input.t, {
    raiseMs: rule.raise_after_ms,
    clearMs: rule.clear_after_ms,
    maxStepMs: input.maxStepMs,
  });
  if (pcie.change.type === "raise") {
    const values: FlagValues = {
      pcie_link_gen: gen ?? null,
      pcie_link_gen_max: genMax ?? null,
      pcie_link_width: width ?? null,
      pcie_link_width_max: widthMax ?? null,
    };
    transitions.push({
      type: "open",
      kind: "pcie-degraded",
      severity: "warning",
      startMs: pcie.change.startMs,
      reason: `PCIe link at Gen${gen} x${width} under load, below the GPU's Gen${genMax} x${widthMax} (check seating, riser, slot)`,
      values,
    });
  } else if (pcie.change.type === "clear") {
    transitions.push({ type: "close", kind: "pcie-degraded", endMs: pcie.change.endMs });
  }

  const down = s.nvlink_links_down;
  const slow = s.nvlink_links_below_speed;
  const nvKnown = present(down) && present(slow);
  const bad = nvKnown && (down > 0 || slow > 0);
  const errorsValue = present(s.nvlink_errors) ? s.nvlink_errors : undefined;
  const nvRule = input.rules.nvlink;
  const errors = errorsStep(prev.nvlinkErrors ?? ERRORS_INITIAL, errorsValue, input.t, nvRule.min_errors);
  const rising = errors.roseAtMs !== null && input.t - errors.roseAtMs < nvRule.clear_after_ms;
  const nvSignals: Signals = {
    links: nvKnown ? hotOrCool(bad) : undefined,
    errors: errorsValue === undefined ? undefined : hotOrCool(rising),
  };
  const nvlink = sustainStep(prev.nvlink, nvSignals, input.t, {
    raiseMs: 0,
    clearMs: 0,
    maxStepMs: input.maxStepMs,
  });
  if (nvlink.change.type === "raise") {
    const why = [
      ...(bad ? [`${down} link(s) down, ${slow} below their speed`] : []),
      ...(rising ? [`${errors.rise} replay/recovery/CRC error(s) since the previous reading`] : []),
    ];
    transitions.push({
      type: "open",
      kind: "nvlink-degraded",
      severity: (down ?? 0) > 0 ? "critical" : "warning",
      startMs: nvlink.change.startMs,
      reason: `NVLink: ${why.join("; ")}`,
      values: {
        nvlink_links_down: down ?? null,
        nvlink_links_below_speed: slow ?? null,
        nvlink_errors: errorsValue ?? null,
      },
    });
  } else if (nvlink.change.type === "clear") {
    transitions.push({ type: "close", kind: "nvlink-degraded", endMs: nvlink.change.endMs });
  }
  if (state && pcie.state === state.pcie && nvlink.state === state.nvlink && errors === state.nvlinkErrors)
    return { state, transitions };
  return { state: { pcie: pcie.state, nvlink: nvlink.state, nvlinkErrors: errors }, transitions };
}
