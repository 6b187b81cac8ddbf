// Sizes ("512MiB") and retention rules ("48h:raw", "30d:1m") as written in configuration.
// Pure parsing; the schema formats in formats.ts, the collector's config check and its store use it.
import { formatDuration, parseDuration } from "../duration.js";

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/;

/** "512MiB" → 536870912; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (SIZE_UNITS[match[2] ?? ""] ?? Number.NaN);
  return Number.isFinite(value) ? Math.floor(value) : undefined;
}

/** For values already validated by the schema: throws on a malformed duration instead of returning undefined. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** For values already validated by the schema: throws on a malformed size. */
export function sizeBytes(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new RangeError(`not a size: ${JSON.stringify(text)}`);
  return bytes;
}

export interface RetentionTier {
  /** "raw", "1m", "1h": the tier's name as written. */
  name: string;
  /** 0 for raw samples, else the rollup step. */
  resolutionMs: number;
  retentionMs: number;
}

/** The smallest rollup step: buckets are keyed by whole seconds' worth of milliseconds. */
const MIN_STEP_MS = 1000;
const RULE = /^([^:]+):([^:]+)$/;

/** One rule "<retention>:<raw|step>"; a message when malformed. */
export function parseRetentionRule(text: string): RetentionTier | string {
  const match = RULE.exec(text.trim());
  if (!match) return `${JSON.stringify(text)} is not a retention rule like "48h:raw" or "30d:1m"`;
  const keep = match[1]?.trim() ?? "";
  const retentionMs = parseDuration(keep);
  if (retentionMs === undefined || retentionMs <= 0)
    return `retention ${JSON.stringify(keep)} in ${JSON.stringify(text)} is not a duration like 48h or 30d`;
  const step = match[2]?.trim() ?? "";
  const resolutionMs = step === "raw" ? 0 : parseDuration(step);
  if (resolutionMs === undefined || (step !== "raw" && resolutionMs <= 0))
    return `step ${JSON.stringify(step)} in ${JSON.stringify(text)} is not "raw" or a duration like 1m`;
  if (step !== "raw" && resolutionMs < MIN_STEP_MS)
    return `step ${step} in ${JSON.stringify(text)} is under 1s`;
  return { name: step === "raw" ? "raw" : formatDuration(resolutionMs), resolutionMs, retentionMs };
}

/** A problem of a retention list: `index` names the rule, undefined the list as a whole. */
export interface RetentionProblem {
  index?: number;
  message: string;
}

/**
 * The one parser of the `retention` setting (the config check and the store both use it): raw first,
 * then coarser tiers, each step a multiple of the one before (rollups merge finer ones), each kept at
 * least as long as the one before and at least one of its own steps. Returns the tiers, or every
 * problem at once.
 */
export function parseRetention(rules: readonly string[]): {
  tiers: RetentionTier[];
  problems: RetentionProblem[];
} {
  const tiers: RetentionTier[] = [];
  const problems: RetentionProblem[] = [];
  rules.forEach((rule, index) => {
    const tier = typeof rule === "string" ? parseRetentionRule(rule) : `${String(rule)} is not a string`;
    if (typeof tier === "string") {
      problems.push({ index, message: tier });
      return;
    }
    const previous = tiers[tiers.length - 1];
    if (index === 0 && tier.resolutionMs !== 0)
      problems.push({
        index,
        message: `the first tier must keep raw samples ("48h:raw"), got ${JSON.stringify(rule)}`,
      });
    if (tier.resolutionMs > 0 && tier.retentionMs < tier.resolutionMs) {
      problems.push({
        index,
        message: `retention ${formatDuration(tier.retentionMs)} is shorter than the step ${tier.name}`,
      });
    }
    if (tier.resolutionMs === 0) {
      if (tiers.some((t) => t.resolutionMs === 0))
        problems.push({ index, message: "a second raw rule: only one, the first, keeps raw samples" });
    } else if (previous) {
      if (tier.resolutionMs === previous.resolutionMs) {
        problems.push({ index, message: `step ${tier.name} appears twice` });
      } else if (tier.resolutionMs < previous.resolutionMs) {
        problems.push({
          index,
          message: `step ${tier.name} must be coarser than, and a multiple of, the previous tier's (${previous.name})`,
        });
      } else if (previous.resolutionMs > 0 && tier.resolutionMs % previous.resolutionMs !== 0) {
        problems.push({
          index,
          message: `step ${tier.name} is not a multiple of ${previous.name}, the previous tier's step`,
        });
      }
      // Equal is fine ("2y:1h", "2y:1d"): a coarser tier only must not lose data before a finer one.
      if (tier.retentionMs < previous.retentionMs) {
        problems.push({
          index,
          message: `retention ${formatDuration(tier.retentionMs)} must be at least as long as the previous tier's (${formatDuration(previous.retentionMs)})`,
        });
      }
    }
    tiers.push(tier);
  });
  if (rules.length === 0) problems.push({ message: "at least one tier (raw) is required" });
  return { tiers, problems };
}

/** Where a problem is reported: "retention" for the list, "retention[2]" for one rule. */
export function retentionProblemPath(key: string, problem: RetentionProblem): string {
  return problem.index === undefined ? key : `${key}[${problem.index}]`;
}
