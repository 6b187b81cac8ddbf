// The soak's fleet: per-agent scenario files cloned from scenarios/soak.yaml (unique host names, so
// unique GPU UUIDs; fault times scaled to the run's length), and the fault schedule.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { ROOT } from "./agent-proc.js";

interface HostProfile {
  name: string;
  faults?: Record<string, unknown>;
  gpus: Record<string, unknown>[];
}

/** Writes dir/scenario-<k>.yaml for each agent; returns their paths. Times scale by minutes / 10. */
export function writeAgentScenarios(dir: string, agents: number, minutes: number): string[] {
  const source = parse(readFileSync(join(ROOT, "scenarios", "soak.yaml"), "utf8")) as {
    hosts: HostProfile[];
    [key: string]: unknown;
  };
  const scale = minutes / 10;
  const scaled = (v: unknown) => (typeof v === "number" ? Math.max(1, Math.round(v * scale)) : v);
  const paths: string[] = [];
  for (let k = 0; k < agents; k++) {
    const profile = source.hosts[k % source.hosts.length] as HostProfile;
    const host: HostProfile = {
      ...profile,
      name: `${profile.name}-${String(k).padStart(3, "0")}`,
      gpus: profile.gpus.map((g) => ("lost_at" in g ? { ...g, lost_at: scaled(g.lost_at) } : g)),
    };
    if (profile.faults?.hang_at !== undefined)
      host.faults = { ...profile.faults, hang_at: scaled(profile.faults.hang_at) };
    const path = join(dir, `scenario-${k}.yaml`);
    writeFileSync(path, stringify({ ...source, hosts: [host] }));
    paths.push(path);
  }
  return paths;
}

export type FaultKind = "agent-kill" | "broker-kill" | "collector-kill" | "broker-pause";

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** How long the part stays down (kill → restart) or paused. */
  downMs: number;
}

/**
 * Faults over a run of totalMs, one at a time with time to recover in between: a broker SIGKILL
 * loses what Mosquitto acknowledged but had not yet saved or delivered, so it is placed where the
 * collector is connected and caught up (see docs/reliability.md).
 */
export function faultSchedule(totalMs: number): Fault[] {
  const pauseMs = totalMs >= 5 * 60_000 ? Math.max(60_000, 0.1 * totalMs) : 0.15 * totalMs;
  const at = (f: number) => Math.round(f * totalMs);
  return [
    { atMs: at(0.08), kind: "agent-kill", downMs: 3000 },
    { atMs: at(0.18), kind: "broker-kill", downMs: 5000 },
    { atMs: at(0.3), kind: "collector-kill", downMs: 15_000 },
    { atMs: at(0.42), kind: "broker-pause", downMs: pauseMs },
    { atMs: at(0.64), kind: "agent-kill", downMs: 1000 },
    { atMs: at(0.72), kind: "collector-kill", downMs: 5000 },
    { atMs: at(0.82), kind: "broker-kill", downMs: 3000 },
  ];
}
