import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentConfigSpec, agentSchema, loadAgentConfig, nvidiaSmiArgv } from "../../agent/config.js";
import { collectorConfigSpec, collectorSchema, loadCollectorConfig } from "../../collector/config.js";
import { DEFAULT_FLAGS_CONFIG, resolveFlagsConfig, rulesFor } from "../../collector/flags/config.js";
import { parseTierRules } from "../../collector/store/tiers.js";
import { checkConfigCommand, MASK } from "../../shared/config/check-config.js";
import { configKeys } from "../../shared/config/keys.js";
import { type LoadResult, loadConfig } from "../../shared/config/load.js";
import { type ConfigProblem, EX_CONFIG } from "../../shared/config/problems.js";

const root = join(import.meta.dirname, "../..");
const ctx = { env: {}, hostname: "node-1" };

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "gputel-config-")), name);
  writeFileSync(path, text);
  return path;
}

function problems<T>(result: LoadResult<T>): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got a valid config: ${JSON.stringify(result.config)}`);
  return result.problems;
}

function valid<T>(result: LoadResult<T>): T {
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.problems)}`);
  return result.config;
}

describe("example files", () => {
  it("deploy/examples/agent.yaml validates and states the defaults", () => {
    const config = valid(
      loadAgentConfig({ file: join(root, "deploy/examples/agent.yaml"), env: {}, hostname: "node-1" }),
    );
    expect(config.interval).toBe("1s");
    expect(config.broker.username).toBe("node-1");
  });

  it("deploy/examples/collector.yaml validates and equals the built-in defaults", () => {
    const fromFile = valid(
      loadCollectorConfig({ file: join(root, "deploy/examples/collector.yaml"), env: {} }),
    );
    const defaults = valid(loadCollectorConfig({ file: tempFile("empty.yaml", ""), env: {} }));
    expect(fromFile).toEqual(defaults);
    expect(fromFile.flags).toEqual(DEFAULT_FLAGS_CONFIG);
  });
});

describe("flags", () => {
  it("an override changes only the keys it names, over the base rules as configured", () => {
    const file = tempFile(
      "c.yaml",
      "flags:\n  idle: { duration: 30m, clear_after: 5m }\n  overrides:\n    - match: { site: ams }\n      idle: { utilization_pct: 50 }\n",
    );
    const config = resolveFlagsConfig(valid(loadCollectorConfig({ file, env: {} })).flags);
    expect(rulesFor(config, "ams", {}).idle).toEqual({
      utilization_pct: 50,
      held_memory_mib: 1024,
      duration_ms: 30 * 60_000,
      clear_after_ms: 5 * 60_000,
    });
    expect(rulesFor(config, "fra", {}).idle.utilization_pct).toBe(5);
  });
});

describe("a broken file", () => {
  it("reports every problem with its key path, several at once", () => {
    const file = tempFile(
      "agent.yaml",
      [
        "host: 'bad host'",
        "interval: 5 seconds",
        "colour: blue",
        "broker:",
        "  url: http://broker:1883",
        "  protocol: 4",
        "  keepalive: soon",
        "spool:",
        "  max_size: lots",
        "  inflight: 0",
      ].join("\n"),
    );
    const found = problems(loadAgentConfig({ file, env: {} }));
    const byPath = Object.fromEntries(found.map((p) => [p.path, p.message]));
    expect(byPath).toMatchObject({
      host: expect.stringContaining("not a valid host id"),
      interval: '"5 seconds" is not a duration like "5s" (units: ms, s, m, h, d, w, y)',
      colour: "unknown key",
      "broker.url": 'must be a mqtt:// or mqtts:// URL, got "http://broker:1883"',
      "broker.protocol": 'must be one of "5", "3.1.1", got 4',
      "broker.keepalive": expect.stringContaining('"soon" is not a duration'),
      "spool.max_size": expect.stringContaining('"lots" is not a size'),
      "spool.inflight": expect.stringContaining("≥ 1"),
    });
    expect(found).toHaveLength(8);
  });

  it("reports YAML syntax errors and a non-mapping top level", () => {
    expect(
      problems(loadAgentConfig({ file: tempFile("a.yaml", "interval: [1s\n"), env: {} }))[0]?.message,
    ).toMatch(/a\.yaml: /);
    expect(
      problems(loadAgentConfig({ file: tempFile("a.yaml", "- 1\n- 2\n"), env: {} }))[0]?.message,
    ).toMatch(/top level must be a mapping/);
    expect(
      problems(loadAgentConfig({ file: tempFile("a.yaml", "a: 1\na: 2\n"), env: {} }))[0]?.message,
    ).toMatch(/unique|duplicate/i);
  });

  it("checks collector keys across each other", () => {
    const file = tempFile(
      "c.yaml",
      "retention: ['48h:raw', '1d:1h', '30d:90s']\nbroker: { mode: external, share_group: g }\nhttp: { listen: '0.0.0.0:8080' }\n",
    );
    const byPath = Object.fromEntries(
      problems(loadCollectorConfig({ file, env: {} })).map((p) => [p.path, p.message]),
    );
    expect(byPath).toEqual({
      "retention[1]": "retention 1d must be at least as long as the previous tier's (2d)",
      "retention[2]": "step 90s must be coarser than, and a multiple of, the previous tier's (1h)",
      "broker.url": "is required when broker.mode is external",
      "http.token": expect.stringContaining("not a loopback address"),
    });
    const first = problems(
      loadCollectorConfig({ file: tempFile("c.yaml", "retention: ['30d:1m']\n"), env: {} }),
    );
    expect(first[0]?.message).toMatch(/first tier must keep raw samples/);
  });

  it("http.read_threads: 1 to 8 threads, named in the problem when out of range", () => {
    const load = (text: string) => loadCollectorConfig({ file: tempFile("c.yaml", text), env: {} });
    expect(valid(load("http: { read_threads: 3 }\n")).http.read_threads).toBe(3);
    expect(valid(load("")).http.read_threads).toBeUndefined();
    for (const bad of ["0", "9", "1.5", "two"])
      expect(problems(load(`http: { read_threads: ${bad} }\n`)).map((p) => p.path)).toEqual([
        "http.read_threads",
      ]);
  });

  it("a fraction where a whole number is wanted is a problem, not cut to a whole number", () => {
    const file = tempFile("c.yaml", "broker: { retained_max_messages: 1.5 }\nlimits: { max_hosts: 2.25 }\n");
    expect(problems(loadCollectorConfig({ file, env: {} })).map((p) => [p.path, p.message])).toEqual([
      ["broker.retained_max_messages", "must be a whole number ≥ 0, got 1.5"],
      ["limits.max_hosts", expect.stringContaining("got 2.25")],
    ]);
    const env = { GPUTEL_BROKER_RETAINED_MAX_MESSAGES: "7.5" };
    const fromEnv = problems(loadCollectorConfig({ file: tempFile("e.yaml", ""), env }));
    expect(fromEnv.map((p) => p.path)).toEqual(["broker.retained_max_messages"]);
    expect(
      valid(
        loadCollectorConfig({
          file: tempFile("w.yaml", "broker: { retained_max_messages: 2.0 }\n"),
          env: {},
        }),
      ).broker.retained_max_messages,
    ).toBe(2);
  });

  it("retention: accepts what the store accepts and refuses what it refuses", () => {
    const daily = ["48h:raw", "30d:1m", "2y:1h", "2y:1d"];
    const ok = loadCollectorConfig({
      file: tempFile("c.yaml", `retention: ${JSON.stringify(daily)}\n`),
      env: {},
    });
    expect(ok.ok).toBe(true);
    expect(parseTierRules(daily).rollups.map((t) => t.stepMs)).toEqual([60_000, 3_600_000, 86_400_000]);

    const tooFine = loadCollectorConfig({
      file: tempFile("c.yaml", "retention: ['48h:raw', '1d:500ms']\n"),
      env: {},
    });
    expect(problems(tooFine).map((p) => [p.path, p.message])).toEqual([
      ["retention[1]", 'step 500ms in "1d:500ms" is under 1s'],
    ]);
    expect(() => parseTierRules(["48h:raw", "1d:500ms"])).toThrow(
      'retention[1]: step 500ms in "1d:500ms" is under 1s',
    );
  });

  it("a missing --config file is an error; a missing default file means defaults", () => {
    expect(problems(loadAgentConfig({ file: "/nonexistent/agent.yaml", env: {} }))[0]?.message).toMatch(
      /ENOENT/,
    );
    const spec = { ...agentConfigSpec, defaultFile: "/nonexistent/agent.yaml" };
    const config = valid(loadConfig(spec, { env: {}, hostname: "h1" }));
    expect(config).toMatchObject({
      host: "h1",
      interval: "1s",
      broker: { url: "mqtt://127.0.0.1:1883", username: "h1" },
    });
  });
});

describe("strings as written", () => {
  it("a string key keeps the file's text where YAML would read a number: 0123, 07, 1.10", () => {
    const file = tempFile(
      "a.yaml",
      "site: 1.10\nlabels: { rack: 07, gen: 4 }\nbroker: { password: 0123 }\nspool: { inflight: 08 }\n",
    );
    const config = valid(loadAgentConfig({ file, env: {}, hostname: "h1" }));
    expect(config.site).toBe("1.10");
    expect(config.labels).toEqual({ rack: "07", gen: "4" });
    expect(config.broker.password).toBe("0123");
    expect(config.spool.inflight).toBe(8);
    const collector = valid(
      loadCollectorConfig({
        file: tempFile("c.yaml", "broker: { mode: external, url: 'mqtt://b:1883', username: 007 }\n"),
        env: {},
      }),
    );
    expect(collector.broker.username).toBe("007");
  });

  it("so do the entries of a GPUTEL_* flow collection", () => {
    const config = valid(
      loadAgentConfig({ file: tempFile("a.yaml", ""), env: { GPUTEL_LABELS: "{rack: 07, rev: 1.10}" } }),
    );
    expect(config.labels).toEqual({ rack: "07", rev: "1.10" });
  });
});

describe("environment and command line", () => {
  it("GPUTEL_<PATH> variables override the file, as YAML values except for plain strings", () => {
    const file = tempFile("a.yaml", "interval: 2s\nbroker: { url: 'mqtt://a:1883' }\n");
    const config = valid(
      loadAgentConfig({
        file,
        hostname: "h1",
        env: {
          GPUTEL_BROKER_URL: "mqtts://b:8883",
          GPUTEL_BROKER_REJECT_UNAUTHORIZED: "false",
          GPUTEL_SPOOL_INFLIGHT: "8",
          GPUTEL_LABELS: "{rack: r1, customer: acme}",
          GPUTEL_BROKER_PASSWORD: "0123",
          GPUTEL_BROKER_PROTOCOL: "3.1.1",
          GPUTEL_REQUIRE_MOSQUITTO: "1", // not a key: ignored
          GPUTEL_SITE: "",
        },
      }),
    );
    expect(config).toMatchObject({
      interval: "2s",
      labels: { rack: "r1", customer: "acme" },
      broker: { url: "mqtts://b:8883", reject_unauthorized: false, password: "0123", protocol: "3.1.1" },
      spool: { inflight: 8 },
    });
    expect(config.site).toBeUndefined();
    const collector = valid(
      loadCollectorConfig({
        env: { GPUTEL_FLAGS_IDLE_DURATION: "20m", GPUTEL_RETENTION: "[24h:raw, 7d:5m]" },
        file: tempFile("c.yaml", ""),
      }),
    );
    expect(collector.flags.idle.duration).toBe("20m");
    expect(collector.retention).toEqual(["24h:raw", "7d:5m"]);
  });

  it("names the variable a bad value came from", () => {
    const found = problems(
      loadAgentConfig({ env: { GPUTEL_INTERVAL: "5 seconds" }, file: tempFile("a.yaml", "") }),
    );
    expect(found).toEqual([
      { path: "interval", message: expect.stringContaining('"5 seconds"'), source: "GPUTEL_INTERVAL" },
    ]);
  });

  it("command-line values win over the file and the environment", () => {
    const file = tempFile("a.yaml", "interval: 2s\nlabels: { rack: r1 }\n");
    const config = valid(
      loadAgentConfig({
        file,
        env: { GPUTEL_INTERVAL: "3s" },
        overrides: { interval: "4s", "labels.row": "7", "broker.url": "mqtt://c:1883" },
      }),
    );
    expect(config).toMatchObject({
      interval: "4s",
      labels: { rack: "r1", row: "7" },
      broker: { url: "mqtt://c:1883" },
    });
    const found = problems(loadAgentConfig({ file, env: {}, overrides: { nope: 1, interval: "soon" } }));
    expect(found.map((p) => [p.path, p.source])).toEqual([
      ["nope", "command line"],
      ["interval", "command line"],
    ]);
  });

  it("every key has its own variable name", () => {
    for (const schema of [agentSchema(ctx), collectorSchema(ctx)]) {
      const names = configKeys(schema).map((k) => k.env);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(configKeys(collectorSchema(ctx)).map((k) => k.env)).toContain("GPUTEL_FLAGS_IDLE_DURATION");
  });
});

describe("secrets", () => {
  it("are read from *_file keys without the trailing newline", () => {
    const secret = tempFile("pw", "s3cret\n");
    const token = tempFile("token", "tok\n");
    const config = valid(
      loadCollectorConfig({
        file: tempFile(
          "c.yaml",
          `broker: { password_file: ${secret} }\nhttp: { token_file: ${token}, listen: '0.0.0.0:8080' }\n`,
        ),
        env: {},
      }),
    );
    expect(config.broker.password).toBe("s3cret");
    expect(config.http.token).toBe("tok");
  });

  it("come from $CREDENTIALS_DIRECTORY when not configured otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), "gputel-creds-"));
    writeFileSync(join(dir, "mqtt_password"), "from-systemd\n");
    writeFileSync(join(dir, "api_token"), "api\n");
    const config = valid(
      loadCollectorConfig({ file: tempFile("c.yaml", ""), env: { CREDENTIALS_DIRECTORY: dir } }),
    );
    expect(config.broker.password).toBe("from-systemd");
    expect(config.http.token).toBe("api");
    const explicit = valid(
      loadAgentConfig({
        file: tempFile("a.yaml", "broker: { password: mine }\n"),
        env: { CREDENTIALS_DIRECTORY: dir },
      }),
    );
    expect(explicit.broker.password).toBe("mine");
  });

  it("are refused on the command line; bad or doubled sources are problems", () => {
    const found = problems(
      loadAgentConfig({ file: tempFile("a.yaml", ""), env: {}, overrides: { "broker.password": "x" } }),
    );
    expect(found[0]).toMatchObject({
      path: "broker.password",
      message: expect.stringContaining("not accepted on the command line"),
    });
    const both = problems(
      loadAgentConfig({
        file: tempFile("a.yaml", `broker: { password: a, password_file: ${tempFile("p", "b")} }\n`),
        env: {},
      }),
    );
    expect(both[0]?.message).toBe("set either broker.password or broker.password_file, not both");
    const missing = problems(
      loadAgentConfig({
        file: tempFile("a.yaml", "broker: { password_file: /nonexistent/pw, ca_file: /nonexistent/ca }\n"),
        env: {},
      }),
    );
    expect(missing.map((p) => p.path)).toEqual(["broker.password_file", "broker.ca_file"]);
  });
});

describe("check-config", () => {
  function capture() {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: {
        stdout: (t: string) => {
          out.stdout += t;
        },
        stderr: (t: string) => {
          out.stderr += t;
        },
      },
    };
  }

  it("prints the effective config with secrets masked, exit 0", async () => {
    const { out, io } = capture();
    const file = tempFile("a.yaml", "host: h1\nbroker: { password: hunter2 }\n");
    expect(
      await checkConfigCommand(agentConfigSpec, ["--config", file], { env: { GPUTEL_INTERVAL: "2s" } }, io),
    ).toBe(0);
    expect(out.stdout).toContain(`password: "${MASK}"`);
    expect(out.stdout).not.toContain("hunter2");
    expect(out.stdout).toContain("interval ← GPUTEL_INTERVAL");
  });

  it("prints every problem to stderr, exit 78", async () => {
    const { out, io } = capture();
    const file = tempFile("c.yaml", "retention: [1]\nhttp: { listen: nowhere }\n");
    expect(await checkConfigCommand(collectorConfigSpec, [`--config=${file}`], { env: {} }, io)).toBe(
      EX_CONFIG,
    );
    expect(out.stderr).toContain("2 problems (GPUTEL_E_CONFIG)");
    expect(out.stderr).toContain('  retention[0]: "1" is not a retention rule');
    expect(out.stderr).toContain('  http.listen: "nowhere" is not an address');
    expect(await checkConfigCommand(collectorConfigSpec, ["--bogus"], {}, io)).toBe(64);
  });
});

describe("nvidia_smi command line", () => {
  it("is split without a shell", () => {
    expect(
      nvidiaSmiArgv({ nvidia_smi: `/opt/gputel mock-smi --scenario 'my file.yaml' "a \\"b\\"" c\\ d $HOME` }),
    ).toEqual(["/opt/gputel", "mock-smi", "--scenario", "my file.yaml", 'a "b"', "c d", "$HOME"]);
    const found = problems(
      loadAgentConfig({ file: tempFile("a.yaml", 'nvidia_smi: "nvidia-smi \'oops"\n'), env: {} }),
    );
    expect(found).toEqual([{ path: "nvidia_smi", message: "unterminated single quote" }]);
  });
});
