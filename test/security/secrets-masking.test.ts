// Issue 13 item 7: credentials in a URL on the command line are refused (as --password is), and
// every secret is masked wherever configuration or URLs are printed or logged: check-config
// output, configuration problems, the collector's and the agent's logs, the API's peer list.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startTestCollector, type TestCollector } from "./collector-helpers.js";

const SECRETS = ["hunter2", "hunter3", "hunter4", "hunter5", "hunter6"];
let dir: string;
const spawned: Spawned[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gputel-secrets-"));
});
afterEach(async () => {
  for (const s of spawned.splice(0)) {
    if (s.child.exitCode === null) s.child.kill("SIGTERM");
    await s.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gputel(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const s = spawnGputel(args, env);
  spawned.push(s);
  return s;
}

async function exitWithin(s: Spawned, ms: number): Promise<number | null | "still running"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still running">((resolve) => {
    timer = setTimeout(() => resolve("still running"), ms);
  });
  const code = await Promise.race([s.exited, late]);
  clearTimeout(timer);
  return code;
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe("credentials in URLs on the command line are refused", () => {
  test.each([
    [
      ["collector", "--config", "/dev/null", "--broker", "mqtt://collector:hunter2@127.0.0.1:1"],
      "broker.url",
    ],
    [
      ["collector", "--config", "/dev/null", "--peers", "http://127.0.0.1:9,http://peer:hunter2@127.0.0.1:9"],
      "http.peers",
    ],
    [["agent", "--config", "/dev/null", "--broker", "mqtts://agent:hunter2@127.0.0.1:1"], "broker.url"],
    [
      [
        "agent",
        "install",
        "--dry-run",
        "--root",
        "/nonexistent-root",
        "--broker",
        "mqtts://a:hunter2@127.0.0.1:1",
      ],
      "broker.url",
    ],
  ])("gputel %j: 78 naming %s, the password not echoed", async (args, key) => {
    const s = gputel(args);
    expect(await exitWithin(s, 15_000)).toBe(78);
    expect(s.output()).toContain(key);
    expect(s.output()).toContain("command line");
    expectNoSecret(s.output());
  });

  test("gputel query --url with a password: usage error (64), the password not echoed", async () => {
    const s = gputel(["query", "--url", "http://ops:hunter2@127.0.0.1:9", "summary"]);
    expect(await exitWithin(s, 15_000)).toBe(64);
    expect(s.output()).toContain("--url");
    expectNoSecret(s.output());
  });
});

describe("check-config masks every secret it prints", () => {
  test("collector: broker URL from GPUTEL_BROKER_URL, peers, remote_write URL and headers, webhook token", async () => {
    const file = join(dir, "collector.yaml");
    writeFileSync(
      file,
      [
        "http:",
        "  peers: ['http://peer:hunter3@peer.example:8080']",
        "alerts:",
        "  webhook:",
        "    url: https://hooks.example/notify?token=hunter6&channel=ops",
        "remote_write:",
        "  url: https://rw:hunter4@rw.example/api/v1/write",
        "  headers:",
        "    Authorization: Bearer hunter5",
        "    X-Scope-OrgID: team-a",
        "",
      ].join("\n"),
    );
    const s = gputel(["collector", "check-config", "--config", file], {
      GPUTEL_BROKER_MODE: "external",
      GPUTEL_BROKER_URL: "mqtts://collector:hunter2@broker.example:8883",
    });
    expect(await exitWithin(s, 15_000)).toBe(0);
    const out = s.output();
    expectNoSecret(out);
    expect(out).toContain("mqtts://collector:********@broker.example:8883");
    expect(out).toContain("http://peer:********@peer.example:8080");
    expect(out).toContain("X-Scope-OrgID: team-a");
    expect(out).toContain("channel=ops");
  });

  test("agent: GPUTEL_BROKER_URL with a password", async () => {
    const s = gputel(["agent", "check-config", "--config", "/dev/null"], {
      GPUTEL_BROKER_URL: "mqtt://agent:hunter2@broker.example:1883",
    });
    expect(await exitWithin(s, 15_000)).toBe(0);
    expectNoSecret(s.output());
    expect(s.output()).toContain("mqtt://agent:********@broker.example:1883");
  });

  test("a password holding '@' is masked whole (a URL's user part ends at its last '@')", async () => {
    const s = gputel(["agent", "check-config", "--config", "/dev/null"], {
      GPUTEL_BROKER_URL: "mqtt://agent:hun@ter2@broker.example:1883",
    });
    expect(await exitWithin(s, 15_000)).toBe(0);
    expect(s.output()).not.toContain("ter2");
    expect(s.output()).toContain("mqtt://agent:********@broker.example:1883");
  });

  test("a problem that quotes the value masks it too", async () => {
    const s = gputel(["collector", "check-config", "--config", "/dev/null"], {
      GPUTEL_BROKER_MODE: "external",
      GPUTEL_BROKER_URL: "http://collector:hunter2@broker.example:1883",
    });
    expect(await exitWithin(s, 15_000)).toBe(78);
    expect(s.output()).toContain("broker.url");
    expectNoSecret(s.output());
  });
});

describe("logs and answers", () => {
  let broker: TestCollector;
  let front: TestCollector | undefined;
  beforeAll(async () => {
    broker = await startTestCollector();
  });
  afterAll(async () => {
    await front?.close();
    await broker?.close();
  });

  test("a collector on an external broker URL with a password never logs the password", async () => {
    const url = `mqtt://collector:hunter2@127.0.0.1:${broker.running.mqttPort}`;
    const s = gputel(
      [
        "collector",
        "--config",
        "/dev/null",
        "--database",
        join(dir, "ext.db"),
        "--http",
        `127.0.0.1:${await freePort()}`,
      ],
      { GPUTEL_BROKER_URL: url, GPUTEL_BROKER_MODE: "external", GPUTEL_LOG_LEVEL: "debug" },
    );
    await waitFor(() => s.output().includes("Collector started"), 15_000, "the collector to start");
    expect(s.output()).toContain("collector:********@127.0.0.1");
    expectNoSecret(s.output());
  });

  test("an agent with a password in GPUTEL_BROKER_URL never logs it", async () => {
    const url = `mqtt://agent-a:hunter2@127.0.0.1:${broker.running.mqttPort}`;
    const smi = `${join(ROOT, "bin/gputel")} mock-smi --scenario ${join(ROOT, "scenarios/test-patterns.yaml")} --`;
    const s = gputel(
      [
        "agent",
        "--config",
        "/dev/null",
        "--nvidia-smi",
        smi,
        "--host",
        "agent-a",
        "--interval",
        "1s",
        "--state-dir",
        join(dir, "agent"),
      ],
      { GPUTEL_BROKER_URL: url, GPUTEL_LOG_LEVEL: "debug", TMPDIR: dir },
    );
    await waitFor(() => s.output().includes("Connected to broker"), 15_000, "the agent to connect");
    expect(s.output()).toContain("agent-a:********@127.0.0.1");
    expectNoSecret(s.output());
  });

  test("the API's list of missing peers masks a peer URL's password", async () => {
    front = await startTestCollector({
      env: { GPUTEL_HTTP_PEERS: `[http://peer:hunter3@127.0.0.1:${await freePort()}]` },
    });
    const answer = await fetch(`${front.url}/api/v1/summary`);
    const text = await answer.text();
    expect(answer.status).toBe(200);
    expect(text).toContain("peer:********@127.0.0.1");
    expectNoSecret(text);
  });
});
