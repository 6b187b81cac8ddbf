// Storage tiers as retention rules: "48h:raw", "30d:1m", "2y:1h" (keep raw samples 48 h,
// 1-minute buckets 30 days, 1-hour buckets 2 years). Every problem is reported at once.
import { formatDuration, parseDuration } from "../../shared/duration.js";
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

export const DEFAULT_TIER_RULES: readonly string[] = ["48h:raw", "30d:1m", "2y:1h"];

/** Parses and validates rules; throws GPUTEL_E_CONFIG listing every problem. */
export function parseTierRules(rules: readonly string[], keyPath = "storage.tiers"): TierConfig {
  const problems: string[] = [];
  let raw: number | undefined;
  const rollups: RollupTier[] = [];
  rules.forEach((rule, i) => {
    const where = `${keyPath}[${i}]`;
    const parts = typeof rule === "string" ? rule.split(":") : [];
    if (parts.length !== 2) {
      problems.push(`${where}: "${String(rule)}" is not "<retention>:<raw|step>", e.g. "30d:1m"`);
      return;
    }
    const [retentionText, stepText] = parts as [string, string];
    const retention = parseDuration(retentionText);
    if (retention === undefined || retention <= 0) {
      problems.push(`${where}: retention "${retentionText}" is not a positive duration like 48h or 30d`);
      return;
    }
    if (stepText.trim() === "raw") {
      if (raw !== undefined) problems.push(`${where}: a second raw rule; only one is allowed`);
      raw = retention;
      return;
    }
    const step = parseDuration(stepText);
    if (step === undefined || step < 1000) {
      problems.push(`${where}: step "${stepText}" must be "raw" or a duration of at least 1s`);
      return;
    }
    if (retention < step)
      problems.push(`${where}: retention ${retentionText} is shorter than the step ${stepText}`);
    if (rollups.some((t) => t.stepMs === step)) problems.push(`${where}: step ${stepText} appears twice`);
    rollups.push({ stepMs: step, retentionMs: retention });
  });
  if (raw === undefined) problems.push(`${keyPath}: a raw rule (e.g. "48h:raw") is required`);
  rollups.sort((a, b) => a.stepMs - b.stepMs);
  for (let i = 1; i < rollups.length; i++) {
    const finer = rollups[i - 1] as RollupTier;
    const coarser = rollups[i] as RollupTier;
    if (coarser.stepMs % finer.stepMs !== 0) {
      problems.push(
        `${keyPath}: step ${formatDuration(coarser.stepMs)} is not a multiple of ${formatDuration(finer.stepMs)}`,
      );
    }
    if (coarser.retentionMs < finer.retentionMs) {
      problems.push(
        `${keyPath}: the ${formatDuration(coarser.stepMs)} tier keeps less (${formatDuration(coarser.retentionMs)}) than the finer ${formatDuration(finer.stepMs)} tier`,
      );
    }
  }
  if (problems.length > 0) {
    throw new GputelError("GPUTEL_E_CONFIG", `Invalid storage tiers: ${problems.join("; ")}`, { problems });
  }
  return { rawRetentionMs: raw as number, rollups };
}
