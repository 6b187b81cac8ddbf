// Flag rule configuration: plain types with defaults, durations as strings ("15m"). The YAML
// loader maps onto FlagsConfig; resolveFlagsConfig turns it into milliseconds once, at start.

import { parseDuration } from "../../shared/duration.js";
import { GputelError } from "../../shared/errors.js";

export interface IdleConfig {
  /** Utilization below this percentage counts as idle (default 5). */
  utilizationPct: number;
  /** Memory used above this many MiB while idle makes the flag idle-held (default 1024). */
  heldMemoryMib: number;
  /** Idle continuously this long raises the flag (default "15m"). */
  after: string;
  /** Busy continuously this long ends the episode; also how long idle vs idle-held must differ to switch (default "1m"). */
  clearAfter: string;
}

export interface OverheatConfig {
  /** Raise when the GPU temperature is within this many °C of the model's slowdown temperature (default 5). */
  marginCelsius: number;
  /** Raise when HBM temperature is within this many °C of the model's memory max (default 5). */
  memoryMarginCelsius: number;
  /** Raise point for the GPU temperature where the model reports no slowdown temperature; null: none (default 85). */
  gpuCeilingCelsius: number | null;
  /** Raise point for the memory temperature where the model reports no memory max; null: none (default 90). */
  memoryCeilingCelsius: number | null;
  /** Clear only this many °C below the raise point (default 3). */
  hysteresisCelsius: number;
  /** Sustained this long to raise (default "2m"). */
  after: string;
  /** Cool (below raise point minus hysteresis, no thermal slowdown) this long to clear (default "2m"). */
  clearAfter: string;
}

export interface ThrottledConfig {
  /** Power-cap or power-brake slowdown active this long raises the flag (default "2m"). */
  after: string;
  /** Slowdown inactive this long clears it (default "1m"). */
  clearAfter: string;
}

export interface OverrideMatch {
  /** Agent site; absent matches any. */
  site?: string;
  /** Every listed agent label must be equal; absent matches any. */
  labels?: Record<string, string>;
}

/** Later overrides win over earlier ones; all matching ones apply, in order. */
export interface FlagsOverride {
  match: OverrideMatch;
  idle?: Partial<IdleConfig>;
  overheat?: Partial<OverheatConfig>;
  throttled?: Partial<ThrottledConfig>;
}

export interface FlagsConfig {
  idle: IdleConfig;
  overheat: OverheatConfig;
  throttled: ThrottledConfig;
  /** A host is stale after this many of its intervals without a frame (default 3). */
  staleIntervals: number;
  /** A GPU missing from its host's frames this many intervals is lost (default 3). */
  lostIntervals: number;
  /** Rule timers are saved this often (open flags are saved at once) (default "30s"). */
  saveStateEvery: string;
  overrides: FlagsOverride[];
}

export const DEFAULT_FLAGS_CONFIG: FlagsConfig = {
  idle: { utilizationPct: 5, heldMemoryMib: 1024, after: "15m", clearAfter: "1m" },
  overheat: {
    marginCelsius: 5,
    memoryMarginCelsius: 5,
    gpuCeilingCelsius: 85,
    memoryCeilingCelsius: 90,
    hysteresisCelsius: 3,
    after: "2m",
    clearAfter: "2m",
  },
  throttled: { after: "2m", clearAfter: "1m" },
  staleIntervals: 3,
  lostIntervals: 3,
  saveStateEvery: "30s",
  overrides: [],
};

export interface IdleRule extends Omit<IdleConfig, "after" | "clearAfter"> {
  afterMs: number;
  clearAfterMs: number;
}
export interface OverheatRule extends Omit<OverheatConfig, "after" | "clearAfter"> {
  afterMs: number;
  clearAfterMs: number;
}
export interface ThrottledRule {
  afterMs: number;
  clearAfterMs: number;
}

/** The thresholds that apply to one GPU, durations in ms. */
export interface GpuRules {
  idle: IdleRule;
  overheat: OverheatRule;
  throttled: ThrottledRule;
}

export interface ResolvedOverride {
  match: OverrideMatch;
  idle: Partial<IdleRule>;
  overheat: Partial<OverheatRule>;
  throttled: Partial<ThrottledRule>;
}

export interface ResolvedFlagsConfig {
  base: GpuRules;
  overrides: ResolvedOverride[];
  staleIntervals: number;
  lostIntervals: number;
  saveStateEveryMs: number;
}

type Timed = { after?: string; clearAfter?: string };

/** Converts the duration fields of a (partial) section to ms, keeping the others; absent stays absent. */
function timed<T extends Timed>(section: T, at: string, problems: string[]) {
  const { after, clearAfter, ...rest } = section;
  const out: Omit<T, "after" | "clearAfter"> & { afterMs?: number; clearAfterMs?: number } = rest;
  for (const [key, text] of [
    ["after", after],
    ["clearAfter", clearAfter],
  ] as const) {
    if (text === undefined) continue;
    const value = parseDuration(text);
    if (value === undefined) problems.push(`${at}.${key}: "${text}" is not a duration`);
    out[key === "after" ? "afterMs" : "clearAfterMs"] = value ?? 0;
  }
  return out;
}

/** Resolves durations and overrides; throws GPUTEL_E_CONFIG listing every problem at once. */
export function resolveFlagsConfig(config: FlagsConfig = DEFAULT_FLAGS_CONFIG): ResolvedFlagsConfig {
  const problems: string[] = [];
  const base = {
    idle: timed(config.idle, "flags.idle", problems) as IdleRule,
    overheat: timed(config.overheat, "flags.overheat", problems) as OverheatRule,
    throttled: timed(config.throttled, "flags.throttled", problems) as ThrottledRule,
  };
  const overrides = config.overrides.map((o, i) => ({
    match: o.match,
    idle: timed(o.idle ?? {}, `flags.overrides[${i}].idle`, problems),
    overheat: timed(o.overheat ?? {}, `flags.overrides[${i}].overheat`, problems),
    throttled: timed(o.throttled ?? {}, `flags.overrides[${i}].throttled`, problems),
  }));
  if (config.staleIntervals < 1) problems.push("flags.staleIntervals: must be at least 1");
  if (config.lostIntervals < 1) problems.push("flags.lostIntervals: must be at least 1");
  const saveStateEveryMs = parseDuration(config.saveStateEvery);
  if (saveStateEveryMs === undefined)
    problems.push(`flags.saveStateEvery: "${config.saveStateEvery}" is not a duration`);
  if (problems.length > 0) {
    throw new GputelError("GPUTEL_E_CONFIG", `Invalid flags configuration: ${problems.join("; ")}`, {
      problems,
    });
  }
  return {
    base,
    overrides,
    staleIntervals: config.staleIntervals,
    lostIntervals: config.lostIntervals,
    saveStateEveryMs: saveStateEveryMs ?? 30_000,
  };
}

function matches(match: OverrideMatch, site: string, labels: Readonly<Record<string, string>>): boolean {
  if (match.site !== undefined && match.site !== site) return false;
  for (const [key, value] of Object.entries(match.labels ?? {})) if (labels[key] !== value) return false;
  return true;
}

/** The thresholds for a GPU of this site and labels: the base, then every matching override in order. */
export function rulesFor(
  config: ResolvedFlagsConfig,
  site: string,
  labels: Readonly<Record<string, string>>,
): GpuRules {
  let out = config.base;
  for (const o of config.overrides) {
    if (!matches(o.match, site, labels)) continue;
    out = {
      idle: { ...out.idle, ...o.idle },
      overheat: { ...out.overheat, ...o.overheat },
      throttled: { ...out.throttled, ...o.throttled },
    };
  }
  return out;
}
