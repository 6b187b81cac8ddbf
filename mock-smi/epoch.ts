// A scenario's time zero. Separate invocations (-L, --help-query-gpu, the long-lived stream) must
// share one clock, so the first one records it in a tiny state file in the temp directory, keyed by
// the scenario's path, its modification time (an edited scenario starts over) and the host index.
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function epochStateFile(scenarioPath: string, hostIndex: number): string {
  const real = realpathSync(scenarioPath);
  const key = `${real}#${statSync(real).mtimeMs}#${hostIndex}`;
  const hash = createHash("sha1").update(key).digest("hex").slice(0, 16);
  return join(tmpdir(), `gputel-mock-smi-${hash}.json`);
}

/** The recorded epoch, or `nowMs` recorded as the epoch when this is the first invocation. */
export function scenarioEpoch(scenarioPath: string, hostIndex: number, nowMs: number): number {
  const file = epochStateFile(scenarioPath, hostIndex);
  const read = (): number | undefined => {
    try {
      const state = JSON.parse(readFileSync(file, "utf8")) as { epochMs?: unknown };
      return typeof state.epochMs === "number" ? state.epochMs : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing !== undefined) return existing;
  try {
    // `wx`: when two invocations start together, one creates the file and the other reads it.
    writeFileSync(file, JSON.stringify({ epochMs: nowMs, scenario: scenarioPath, hostIndex }), {
      flag: "wx",
    });
    return nowMs;
  } catch {
    return read() ?? nowMs;
  }
}
