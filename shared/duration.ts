// Durations are strings in configuration and on the command line ("5s", "15m", "48h", "30d", "2y").

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/;

/** Parses "1500ms", "5s", "1.5h"... into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

export function formatDuration(ms: number): string {
  for (const unit of ["y", "w", "d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
