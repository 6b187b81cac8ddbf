// String formats of the configuration schemas, each with the message an operator reads when
// a value does not match. Registered in TypeBox's format registry once, on import.
import { FormatRegistry, type StringOptions, type TString, Type } from "@sinclair/typebox";
import { parseDuration } from "../duration.js";
import { isValidHostId } from "../topics.js";
import { parseRetentionRule, parseSize } from "./units.js";

function isUrl(text: string, protocols: readonly string[]): boolean {
  try {
    const url = new URL(text);
    return protocols.includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}

/** "host:port", "[::1]:port" or ":port"; the host part may be empty (all addresses). */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? "", port };
}

interface FormatDef {
  test(text: string): boolean;
  message(value: string): string;
}

const FORMATS = {
  "gputel-duration": {
    test: (t) => (parseDuration(t) ?? 0) > 0,
    message: (v) => `${JSON.stringify(v)} is not a duration like "5s" (units: ms, s, m, h, d, w, y)`,
  },
  "gputel-size": {
    test: (t) => (parseSize(t) ?? 0) > 0,
    message: (v) =>
      `${JSON.stringify(v)} is not a size like "512MiB" (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)`,
  },
  "gputel-mqtt-url": {
    test: (t) => isUrl(t, ["mqtt:", "mqtts:"]),
    message: (v) => `must be a mqtt:// or mqtts:// URL, got ${JSON.stringify(v)}`,
  },
  "gputel-http-url": {
    test: (t) => isUrl(t, ["http:", "https:"]),
    message: (v) => `must be an http:// or https:// URL, got ${JSON.stringify(v)}`,
  },
  "gputel-listen": {
    test: (t) => parseListen(t) !== undefined,
    message: (v) => `${JSON.stringify(v)} is not an address like "127.0.0.1:8080" or "[::1]:8080"`,
  },
  "gputel-host-id": {
    test: isValidHostId,
    message: (v) =>
      `${JSON.stringify(v)} is not a valid host id (letters, digits, '.', '_', '-'; starts with a letter or digit; at most 128)`,
  },
  "gputel-retention-rule": {
    test: (t) => typeof parseRetentionRule(t) !== "string",
    message: (v) => {
      const parsed = typeof v === "string" ? parseRetentionRule(v) : undefined;
      return typeof parsed === "string"
        ? parsed
        : `${JSON.stringify(v)} is not a retention rule like "48h:raw" or "30d:1m"`;
    },
  },
} satisfies Record<string, FormatDef>;

export type FormatName = keyof typeof FORMATS;

for (const [name, def] of Object.entries(FORMATS)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, def.test);
}

/** The operator-facing message for a value that failed `format`, or undefined for other formats. */
export function formatMessage(format: string, value: unknown): string | undefined {
  const def = (FORMATS as Record<string, FormatDef>)[format];
  return def ? def.message(String(value)) : undefined;
}

function formatted(format: FormatName, options: StringOptions): TString {
  // An explicit `default: undefined` would make Value.Default write the key; leave it out instead.
  const clean = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return Type.String({ ...clean, format });
}

export const Duration = (fallback?: string, description?: string) =>
  formatted("gputel-duration", { default: fallback, description });
export const Size = (fallback?: string, description?: string) =>
  formatted("gputel-size", { default: fallback, description });
export const MqttUrl = (fallback?: string, description?: string) =>
  formatted("gputel-mqtt-url", { default: fallback, description });
export const HttpUrl = (description?: string) => formatted("gputel-http-url", { description });
export const Listen = (fallback?: string, description?: string) =>
  formatted("gputel-listen", { default: fallback, description });
export const HostId = (fallback?: string, description?: string) =>
  formatted("gputel-host-id", { default: fallback, description });
export const RetentionRule = () => formatted("gputel-retention-rule", {});

/** Marks a key as secret: masked by check-config, refused on the command line. */
export const Secret = (description?: string) =>
  Type.String(description ? { description, secret: true } : { secret: true });

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LogLevel = () =>
  Type.Union(
    LOG_LEVELS.map((l) => Type.Literal(l)),
    { default: "info", description: "pino log level" },
  );
