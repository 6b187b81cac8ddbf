import { type Logger, type LoggerOptions, pino } from "pino";
import { maskDeep, maskUrl } from "./mask.js";

export type { Logger } from "pino";

export interface LoggerSettings {
  level?: string;
  /** Write to this stream instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

/** One root logger per program; components take `logger.child({ component: "agent.nvidia-smi" })`. */
export function createLogger(base: Record<string, unknown>, settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.GPUTEL_LOG_LEVEL ?? "info",
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    // No log line carries a URL's password or a credential query value, whoever logs it.
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => maskDeep(bindings) as Record<string, unknown>,
      log: (object) => maskDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === "string" ? maskUrl(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that discards everything (tests, `--once`). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/**
 * Logs a repeating failure at most once per period per key, counting what it suppressed
 * (so a broken host cannot flood the journal).
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the number suppressed since the last log line if this one should be logged, else undefined. */
  admit(key: string): number | undefined {
    const t = this.now();
    const entry = this.last.get(key);
    if (!entry || t - entry.at >= this.periodMs) {
      const suppressed = entry?.suppressed ?? 0;
      this.last.set(key, { at: t, suppressed: 0 });
      if (this.last.size > 10_000) this.last.clear();
      return suppressed;
    }
    entry.suppressed += 1;
    return undefined;
  }
}
