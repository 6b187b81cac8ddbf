// The processes end-to-end rig: real children of the test (their /proc entries linked into a
// fixture /proc root the agent reads), a mock-smi scenario naming them, a collector with its
// embedded broker, and `gputel agent` with the processes source between them.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCollectorConfig } from "../../collector/config.js";
import { type RunningCollector, startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";
import { GPUTEL, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

export interface ProcessesRig {
  dir: string;
  /** The fixture /proc root: real children are linked in; tests add their own entries. */
  proc: string;
  /** The pids of the real children, in order. */
  pids: number[];
  api: string;
  agent: Spawned;
  collector: RunningCollector;
  get<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export interface RigOptions {
  host: string;
  children: number;
  /** The scenario's lines, given the children's pids. */
  scenario: (pids: number[]) => string[];
  /** The passwd file the agent reads (user names). */
  passwd: string;
  /** Adds fixture entries under the /proc root before the agent starts. */
  prepare?: (proc: string) => void;
  collectorOverrides?: Record<string, string>;
}

export async function startProcessesRig(options: RigOptions): Promise<ProcessesRig> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-e2e-procs-"));
  const children: ChildProcess[] = Array.from({ length: options.children }, () =>
    spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" }),
  );
  const pids = children.map((c) => c.pid ?? 0);
  const proc = join(dir, "proc");
  mkdirSync(proc);
  symlinkSync("/proc/stat", join(proc, "stat"));
  for (const pid of pids) symlinkSync(`/proc/${pid}`, join(proc, String(pid)));
  options.prepare?.(proc);
  writeFileSync(join(dir, "passwd"), options.passwd);
  const scenario = join(dir, "scenario.yaml");
  writeFileSync(scenario, [...options.scenario(pids), ""].join("\n"));
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const api = `http://127.0.0.1:${httpPort}`;
  const loaded = loadCollectorConfig({
    env: {},
    overrides: {
      database: join(dir, "collector.db"),
      "http.listen": `127.0.0.1:${httpPort}`,
      "broker.listen": `127.0.0.1:${mqttPort}`,
      ...options.collectorOverrides,
    },
  });
  if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded)}`);
  const collector = await startCollector(loaded.config, silentLogger());
  const config = join(dir, "agent.yaml");
  writeFileSync(
    config,
    [
      `host: ${options.host}`,
      "interval: 500ms",
      "compute_apps_interval: 1s",
      `state_directory: ${join(dir, "state")}`,
      "sources: [nvidia-smi, processes]",
      `nvidia_smi: ${GPUTEL} mock-smi --scenario ${scenario} --`,
      `processes: { refresh_interval: 2s, pmon_interval: 1s, proc_root: ${proc}, passwd_file: ${join(dir, "passwd")} }`,
      `broker: { url: "mqtt://127.0.0.1:${mqttPort}" }`,
      "",
    ].join("\n"),
  );
  const agent = spawnGputel(["agent", "--config", config]);
  return {
    dir,
    proc,
    pids,
    api,
    agent,
    collector,
    get: async <T>(path: string) => (await (await fetch(`${api}${path}`)).json()) as T,
    async stop() {
      agent.child.kill("SIGKILL");
      await agent.exited;
      for (const c of children) c.kill("SIGKILL");
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
