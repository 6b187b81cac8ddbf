// `sources:` in the agent configuration: the default, names refused at check-config under the
// key that has them, and the registry building what the list selects.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentConfigSpec, loadAgentConfig } from "../../agent/config.js";
import { sourcesFromConfig } from "../../agent/run.js";
import { checkConfigCommand } from "../../shared/config/check-config.js";
import type { LoadResult } from "../../shared/config/load.js";
import { type ConfigProblem, EX_CONFIG } from "../../shared/config/problems.js";
import { silentLogger } from "../../shared/logger.js";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "gputel-sources-")), "agent.yaml");
  writeFileSync(path, text);
  return path;
}

function problems<T>(result: LoadResult<T>): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.config)}`);
  return result.problems;
}

const load = (text: string, env: Record<string, string> = {}) =>
  loadAgentConfig({ file: file(text), env, hostname: "node-1" });

describe("agent sources:", () => {
  it("defaults to [nvidia-smi], and the registry builds that source", () => {
    const result = load("");
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.sources).toEqual(["nvidia-smi"]);
    const sources = sourcesFromConfig(result.config, silentLogger());
    expect(sources.gpu.name).toBe("nvidia-smi");
    expect(sources.health()).toEqual([
      {
        name: "nvidia-smi",
        restarts: 0,
        timeouts: 0,
        exits: 0,
        stuckChildren: 0,
        startFailures: 0,
        lastError: "",
        lastErrorMs: 0,
        stuck: false,
      },
    ]);
  });

  it("takes the list from the file or from GPUTEL_SOURCES", () => {
    const fromFile = load("sources: [nvidia-smi]\n");
    expect(fromFile.ok && fromFile.config.sources).toEqual(["nvidia-smi"]);
    const fromEnv = load("", { GPUTEL_SOURCES: "[nvidia-smi]" });
    expect(fromEnv.ok && fromEnv.config.sources).toEqual(["nvidia-smi"]);
  });

  it("takes the kernel log as a second (events) source, never as the only one", () => {
    const both = load("sources: [nvidia-smi, kernel-log]\nkernel_log: { command: cat /dev/kmsg }\n");
    expect(both.ok && both.config.sources).toEqual(["nvidia-smi", "kernel-log"]);
    expect(both.ok && both.config.kernel_log.command).toBe("cat /dev/kmsg");
    const defaults = load("");
    expect(defaults.ok && defaults.config.kernel_log.command).toBe("journalctl -k -f -n all -o json");
    expect(problems(load("sources: [kernel-log]\n"))).toEqual([
      { path: "sources", message: "needs exactly one GPU source (nvidia-smi), got none" },
    ]);
  });

  it("refuses unknown names, repeats and a list without a GPU source, naming the key", () => {
    expect(problems(load("sources: [nvidia-smi, dcgm]\n"))).toEqual([
      { path: "sources[1]", message: 'unknown source "dcgm" (known: nvidia-smi, kernel-log, processes)' },
    ]);
    expect(problems(load("sources: [nvidia-smi, nvidia-smi]\n"))).toEqual([
      { path: "sources[1]", message: "nvidia-smi is listed twice" },
    ]);
    expect(problems(load("sources: []\n"))).toEqual([
      { path: "sources", message: "needs exactly one GPU source (nvidia-smi), got none" },
    ]);
  });

  it("processes: needs nvidia-smi, a salt to hash users, and a pmon interval pmon accepts", () => {
    const defaults = load("sources: [nvidia-smi, processes]\n");
    expect(defaults.ok && [defaults.config.privacy.users, defaults.config.processes.proc_root]).toEqual([
      "keep",
      "/proc",
    ]);
    expect(problems(load("sources: [kernel-log, processes]\n")).map((p) => p.message)).toContain(
      "processes reads the nvidia-smi source's compute-process rows: list nvidia-smi too",
    );
    expect(problems(load("privacy:\n  users: hash\n"))).toEqual([
      { path: "privacy.salt", message: "privacy.users is hash: set a salt (or salt_file)" },
    ]);
    expect(load("privacy:\n  users: hash\n  salt: s3cret\n").ok).toBe(true);
    expect(problems(load("processes:\n  pmon_interval: 1500ms\n")).map((p) => p.path)).toEqual([
      "processes.pmon_interval",
    ]);
  });

  it("check-config prints the bad key and exits 78", async () => {
    let stderr = "";
    const io = {
      stdout: () => {},
      stderr: (t: string) => {
        stderr += t;
      },
    };
    const path = file("sources: [nvidia-smi, kernel-logg]\n");
    expect(await checkConfigCommand(agentConfigSpec, ["--config", path], { env: {} }, io)).toBe(EX_CONFIG);
    expect(stderr).toContain(
      '  sources[1]: unknown source "kernel-logg" (known: nvidia-smi, kernel-log, processes)',
    );
  });
});
