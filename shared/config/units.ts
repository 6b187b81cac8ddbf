// Sizes ("512MiB") and retention rules ("48h:raw", "30d:1m") as written in configuration.
// Pure parsing; the schema formats in formats.ts and the storage code both use it.
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

const RULE = /^([^:]+):([^:]+)$/;

/** One rule "<retention>:<raw|step>"; a message when malformed. */
export function parseRetentionRule(text: string): RetentionTier | string {
  const match = RULE.exec(text.trim());
  const retentionMs = match ? parseDuration(match[1] ?? "") : undefined;
  const step = match?.[2]?.trim() ?? "";
  const resolutionMs = step === "raw" ? 0 : parseDuration(step);
  if (
    !match ||
    retentionMs === undefined ||
    resolutionMs === undefined ||
    retentionMs <= 0 ||
    (step !== "raw" && resolutionMs <= 0)
  ) {
    return `${JSON.stringify(text)} is not a retention rule like "48h:raw" or "30d:1m"`;
  }
  // The store's own limit (collector/store/tiers.ts): rollups of at least one second.
  if (step !== "raw" && resolutionMs < 1000) return `step ${step} in ${JSON.stringify(text)} is under 1s`;
  return { name: step === "raw" ? "raw" : formatDuration(resolutionMs), resolutionMs, retentionMs };
}

/**
 * A full retention list: raw first, then coarser tiers, each step a multiple of the one before
 * (rollups merge finer ones) and each kept at least as long as the one before. Returns the tiers, or the
 * problems keyed by index (undefined index: the list as a whole).
 */
export function parseRetention(rules: readonly string[]): {
  tiers: RetentionTier[];
  problems: { index?: number; message: string }[];
} {
  const tiers: RetentionTier[] = [];
  const problems: { index?: number; message: string }[] = [];
  rules.forEach((rule, index) => {
    const tier = parseRetentionRule(rule);
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
    if (previous && index > 0) {
      if (
        tier.resolutionMs <= previous.resolutionMs ||
        (previous.resolutionMs > 0 && tier.resolutionMs % previous.resolutionMs !== 0)
      ) {
        problems.push({
          index,
          message: `step ${tier.name} must be coarser than, and a multiple of, the previous tier's (${previous.name})`,
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
