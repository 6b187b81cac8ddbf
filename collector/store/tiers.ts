// The store's tiers from the `retention` setting: "48h:raw", "30d:1m", "2y:1h" (keep raw samples
// 48 h, 1-minute buckets 30 days, 1-hour buckets 2 years). The rules are parsed by the one retention
// parser (shared/config/units.ts) that the config check also uses, so a list the configuration
// accepts is one the store opens, and both report a problem under the key the user wrote.

import { parseRetention, retentionProblemPath } from "../../shared/config/units.js";
import { GputelError } from "../../shared/errors.js";

export interface RollupTier {
  stepMs: number;
  retentionMs: number;
}

export interface TierConfig {
  rawRetentionMs: number;
  /** Finest step first. */
  rollups: RollupTier[];
}

/** The default of `retention` (the config schema's default too). */
export const DEFAULT_TIER_RULES: readonly string[] = ["48h:raw", "30d:1m", "2y:1h"];

/** Parses and validates rules; throws GPUTEL_E_CONFIG listing every problem under `key`. */
export function parseTierRules(rules: readonly string[], key = "retention"): TierConfig {
  const { tiers, problems } = parseRetention(rules);
  const raw = tiers[0];
  if (problems.length > 0 || !raw) {
    const listed = problems.map((p) => `${retentionProblemPath(key, p)}: ${p.message}`);
    throw new GputelError("GPUTEL_E_CONFIG", `Invalid ${key}: ${listed.join("; ")}`, { problems: listed });
  }
  return {
    rawRetentionMs: raw.retentionMs,
    rollups: tiers.slice(1).map((t) => ({ stepMs: t.resolutionMs, retentionMs: t.retentionMs })),
  };
}
