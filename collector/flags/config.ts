// The `flags` settings: one TypeBox schema gives the YAML keys, their defaults and validation (the
// collector's schema embeds it as `flags`), and the code reads the same names. resolveFlagsConfig
// turns the durations into milliseconds (`duration` → `duration_ms`) once, at start.
import { type Static, type TOptional, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { Duration } from "../../shared/config/formats.js";
import { parseDuration } from "../../shared/duration.js";
import { GputelError } from "../../shared/errors.js";
import { DEFAULT_IDLE_THRESHOLDS, type IdleThresholds } from "../usage/classify.js";

const strict = { additionalProperties: false } as const;
const section = { additionalProperties: false, default: {} } as const;
const Celsius = (fallback: number) => Type.Number({ minimum: 0, maximum: 150, default: fallback });
const CeilingCelsius = (fallback: number) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 150 }), Type.Null()], { default: fallback });

function idleFields() {
  return {
    utilization_pct: Type.Number({
      minimum: 0,
      maximum: 100,
      // The usage classification's threshold: reports and flags call the same samples idle.
      default: DEFAULT_IDLE_THRESHOLDS.utilizationPct,
      description: "below this utilization a GPU is idle",
    }),
    duration: Duration("15m", "idle this long raises the idle flag"),
    held_memory_mib: Type.Number({
      minimum: 0,
      default: DEFAULT_IDLE_THRESHOLDS.heldMemoryMib,
      description: "memory used above this while idle: idle-held",
    }),
    clear_after: Duration("1m", "busy this long ends an idle episode"),
  };
}

function overheatFields() {
  return {
    margin_c: Celsius(5),
    memory_margin_c: Celsius(5),
    ceiling_c: CeilingCelsius(85),
    memory_ceiling_c: CeilingCelsius(90),
    raise_after: Duration("2m"),
    clear_hysteresis_c: Celsius(3),
    clear_after: Duration("2m"),
  };
}

function throttledFields() {
  return { raise_after: Duration("2m"), clear_after: Duration("1m") };
}

function pcieFields() {
  return {
    load_pct: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 30,
      description: "from this utilization the PCIe link is judged (idle GPUs lower it on purpose)",
    }),
    raise_after: Duration("5m", "link below its maximum under load this long raises pcie-degraded"),
    clear_after: Duration("5m", "link at its maximum under load this long clears it"),
  };
}

function nvlinkFields() {
  return {
    min_errors: Type.Integer({
      minimum: 1,
      default: 1,
      description:
        "NVLink replay+recovery+CRC errors that must appear between two readings to raise nvlink-degraded",
    }),
    clear_after: Duration("15m", "error counters steady this long clear an nvlink-degraded they raised"),
  };
}

/**
 * An override's keys: optional and without a default, so an override changes only what it names
 * (a default there would put the built-in value back over a base rule the operator changed).
 */
function overrideFields<F extends Record<string, TSchema>>(fields: F): { [K in keyof F]: TOptional<F[K]> } {
  const entries = Object.entries(fields).map(([key, schema]) => {
    const { default: _default, ...rest } = schema;
    return [key, Type.Optional(rest as TSchema)];
  });
  return Object.fromEntries(entries) as { [K in keyof F]: TOptional<F[K]> };
}

/** The `flags` section of collector.yaml (docs/configuration.md describes each key). */
export const FlagsSchema = Type.Object(
  {
    idle: Type.Object(idleFields(), section),
    overheat: Type.Object(overheatFields(), section),
    throttled: Type.Object(throttledFields(), section),
    pcie: Type.Object(pcieFields(), section),
    nvlink: Type.Object(nvlinkFields(), section),
    stale_intervals: Type.Integer({ minimum: 1, default: 3 }),
    lost_intervals: Type.Integer({ minimum: 1, default: 3 }),
    save_state_every: Duration("30s"),
    overrides: Type.Array(
      Type.Object(
        {
          match: Type.Object(
            {
              site: Type.Optional(Type.String()),
              labels: Type.Optional(Type.Record(Type.String(), Type.String())),
            },
            strict,
          ),
          idle: Type.Optional(Type.Object(overrideFields(idleFields()), strict)),
          overheat: Type.Optional(Type.Object(overrideFields(overheatFields()), strict)),
          throttled: Type.Optional(Type.Object(overrideFields(throttledFields()), strict)),
          pcie: Type.Optional(Type.Object(overrideFields(pcieFields()), strict)),
          nvlink: Type.Optional(Type.Object(overrideFields(nvlinkFields()), strict)),
        },
        strict,
      ),
      { default: [] },
    ),
  },
  section,
);

export type FlagsConfig = Static<typeof FlagsSchema>;
export type IdleConfig = FlagsConfig["idle"];
export type OverheatConfig = FlagsConfig["overheat"];
export type ThrottledConfig = FlagsConfig["throttled"];
export type PcieConfig = FlagsConfig["pcie"];
export type NvlinkConfig = FlagsConfig["nvlink"];
/** Later overrides win over earlier ones; all matching ones apply, in order. */
export type FlagsOverride = FlagsConfig["overrides"][number];
/** Site and labels an override applies to; an absent key matches any. */
export type OverrideMatch = FlagsOverride["match"];

/** Every default, from the schema (the YAML loader fills the same ones). */
export const DEFAULT_FLAGS_CONFIG: FlagsConfig = Value.Default(FlagsSchema, {}) as FlagsConfig;

/** The duration keys of the rule sections; resolved, each becomes `<key>_ms`. */
const DURATION_KEYS = ["duration", "raise_after", "clear_after"] as const;
type DurationKey = (typeof DURATION_KEYS)[number];
type InMs<T> = Omit<T, DurationKey> & { [K in keyof T & DurationKey as `${K}_ms`]: number };

export type IdleRule = InMs<IdleConfig>;
export type OverheatRule = InMs<OverheatConfig>;
export type ThrottledRule = InMs<ThrottledConfig>;
export type PcieRule = InMs<PcieConfig>;
export type NvlinkRule = InMs<NvlinkConfig>;

/** The thresholds that apply to one GPU, durations in ms. */
export interface GpuRules {
  idle: IdleRule;
  overheat: OverheatRule;
  throttled: ThrottledRule;
  pcie: PcieRule;
  nvlink: NvlinkRule;
}

export interface ResolvedOverride {
  match: OverrideMatch;
  idle: Partial<IdleRule>;
  overheat: Partial<OverheatRule>;
  throttled: Partial<ThrottledRule>;
  pcie: Partial<PcieRule>;
  nvlink: Partial<NvlinkRule>;
}

export interface ResolvedFlagsConfig {
  base: GpuRules;
  overrides: ResolvedOverride[];
  stale_intervals: number;
  lost_intervals: number;
  save_state_every_ms: number;
}

/** Converts the duration keys of a (partial) section to ms, keeping the others; absent stays absent. */
function timed<T extends object>(section: T, at: string, problems: string[]): InMs<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (value === undefined) continue;
    if (!(DURATION_KEYS as readonly string[]).includes(key)) {
      out[key] = value;
      continue;
    }
    const ms = typeof value === "string" ? parseDuration(value) : undefined;
    if (ms === undefined) problems.push(`${at}.${key}: ${JSON.stringify(value)} is not a duration`);
    out[`${key}_ms`] = ms ?? 0;
  }
  return out as InMs<T>;
}

/** Resolves durations and overrides; throws GPUTEL_E_CONFIG listing every problem (YAML key paths) at once. */
export function resolveFlagsConfig(config: FlagsConfig = DEFAULT_FLAGS_CONFIG): ResolvedFlagsConfig {
  const problems: string[] = [];
  const base: GpuRules = {
    idle: timed(config.idle, "flags.idle", problems),
    overheat: timed(config.overheat, "flags.overheat", problems),
    throttled: timed(config.throttled, "flags.throttled", problems),
    pcie: timed(config.pcie, "flags.pcie", problems),
    nvlink: timed(config.nvlink, "flags.nvlink", problems),
  };
  const overrides = config.overrides.map((o, i) => ({
    match: o.match,
    idle: timed(o.idle ?? {}, `flags.overrides[${i}].idle`, problems),
    overheat: timed(o.overheat ?? {}, `flags.overrides[${i}].overheat`, problems),
    throttled: timed(o.throttled ?? {}, `flags.overrides[${i}].throttled`, problems),
    pcie: timed(o.pcie ?? {}, `flags.overrides[${i}].pcie`, problems),
    nvlink: timed(o.nvlink ?? {}, `flags.overrides[${i}].nvlink`, problems),
  }));
  if (config.stale_intervals < 1) problems.push("flags.stale_intervals: must be at least 1");
  if (config.lost_intervals < 1) problems.push("flags.lost_intervals: must be at least 1");
  const saveStateEveryMs = parseDuration(config.save_state_every);
  if (saveStateEveryMs === undefined)
    problems.push(`flags.save_state_every: "${config.save_state_every}" is not a duration`);
  if (problems.length > 0) {
    throw new GputelError("GPUTEL_E_CONFIG", `Invalid flags configuration: ${problems.join("; ")}`, {
      problems,
    });
  }
  return {
    base,
    overrides,
    stale_intervals: config.stale_intervals,
    lost_intervals: config.lost_intervals,
    save_state_every_ms: saveStateEveryMs ?? 0,
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
      pcie: { ...out.pcie, ...o.pcie },
      nvlink: { ...out.nvlink, ...o.nvlink },
    };
  }
  return out;
}

/** The store's idle thresholds per host from the flag rules (one rule for usage and the idle flag). */
export function idleThresholdsFor(
  config: ResolvedFlagsConfig,
): (host: string, site: string, labels: Readonly<Record<string, string>>) => IdleThresholds {
  return (_host, site, labels) => {
    const idle = rulesFor(config, site, labels).idle;
    return { utilizationPct: idle.utilization_pct, heldMemoryMib: idle.held_memory_mib };
  };
}
