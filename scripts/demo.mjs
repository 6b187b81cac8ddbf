#!/usr/bin/env node
// `npm start`: the whole product on one machine with no GPU. A collector with its embedded
// broker, and one agent per host of scenarios/demo-fleet.yaml, each running `gputel mock-smi`
// as its nvidia-smi (the real shell-out path) and `gputel mock-kmsg` as its kernel log. Flag
// durations are shortened so that idle, idle-held and overheat flags show within a couple of
// minutes. Once the collector knows every GPU, the demo leases them through the API
// (demo-leases.mjs), so the tenants view and the sales figures have something to show.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { startDemoLeases } from "./demo-leases.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const gputel = join(root, "bin/gputel");
if (!existsSync(join(root, "dist/cli/main.js"))) {
  console.error("dist/ is missing: run `npm run build` (npm ci does it)");
  process.exit(1);
}

async function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
async function pickPort(preferred) {
  if (await portFree(preferred)) return preferred;
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// GPUTEL_DEMO_DIR: where the demo keeps its database and spools (the test gives its own).
const run =
  process.env.GPUTEL_DEMO_DIR ?? join(root, ".tmp", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`);
const mockClock = join(run, "mock-clock");
mkdirSync(mockClock, { recursive: true });
const mqttPort = await pickPort(1883);
const httpPort = await pickPort(8080);
const scenario = join(root, "scenarios/demo-fleet.yaml");
const scenarioHosts = parse(readFileSync(scenario, "utf8")).hosts;
const hosts = scenarioHosts.map((h) => h.name);
const gpuCount = scenarioHosts.reduce((n, h) => n + h.gpus.reduce((k, g) => k + (g.count ?? 1), 0), 0);

const collectorConfig = join(run, "collector.yaml");
writeFileSync(
  collectorConfig,
  [
    `database: ${join(run, "collector.db")}`,
    "broker:",
    `  listen: 127.0.0.1:${mqttPort}`,
    "http:",
    `  listen: 127.0.0.1:${httpPort}`,
    "flags:",
    "  idle: { duration: 1m }",
    "  overheat: { raise_after: 30s, clear_after: 1m }",
    "  throttled: { raise_after: 30s }",
    "",
  ].join("\n"),
);

const children = [];
function start(name, args, env = {}) {
  const child = spawn(process.execPath, [gputel, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        // Show warnings and errors; the full logs are structured JSON for journald.
        if (/"level":"(warn|error|fatal)"/.test(line) || !line.startsWith("{"))
          process.stdout.write(`${prefix}${line}\n`);
      }
    });
  }
  child.on("exit", (code, signal) => {
    if (!stopping) console.log(`${prefix}exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

let stopping = false;
let collector;
let leases;
/** SIGTERM to each child and resolves when all of them exited. */
function stopChildren(list) {
  const running = list.filter((child) => child.exitCode === null && child.signalCode === null);
  return Promise.all(
    running.map(
      (child) =>
        new Promise((resolve) => {
          child.once("exit", resolve);
          child.kill("SIGTERM");
        }),
    ),
  );
}
async function stopAll() {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping the demo…");
  setTimeout(() => {
    console.log("Some parts did not stop within 10 s; leaving.");
    process.exit(1);
  }, 10_000).unref();
  leases?.stop();
  // Agents first, then the collector: an agent whose broker goes away first sees its connection
  // reset and warns about it. Each waits for its clean stop (agents say "stopped", the
  // collector closes its database).
  await stopChildren(children.filter((child) => child !== collector));
  await stopChildren([collector]);
  process.exit(0);
}
process.on("SIGINT", () => void stopAll());
process.on("SIGTERM", () => void stopAll());

/** Resolves once something accepts on the port (polled, 30 s deadline). */
async function portOpen(port) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the collector did not open port ${port} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

collector = start("collector", ["collector", "--config", collectorConfig]);
// Agents would cope with a broker not up yet (they spool and retry), but their first
// "connection refused" warnings would only confuse a first run.
await portOpen(mqttPort);
const sites = ["fra1", "fra1", "ams2", "ams2"];
const customers = ["acme", "globex", "acme", "initech"];
hosts.forEach((host, index) => {
  start(
    host,
    [
      "agent",
      "--host",
      host,
      "--site",
      sites[index % sites.length],
      "--label",
      `customer=${customers[index % customers.length]}`,
      "--broker",
      `mqtt://127.0.0.1:${mqttPort}`,
      "--interval",
      "1s",
      "--state-dir",
      join(run, `agent-${host}`),
      "--nvidia-smi",
      `${gputel} mock-smi --scenario ${scenario} --host-index ${index} --`,
    ],
    {
      TMPDIR: mockClock,
      // Every source: the kernel log's stand-in plays the scenario's Xid lines as journalctl JSON;
      // the processes source lists the scenario's compute apps (their pids are made up, so their
      // users and workloads read as absent: no such process in /proc).
      GPUTEL_SOURCES: "[nvidia-smi, kernel-log, processes]",
      GPUTEL_KERNEL_LOG_COMMAND: `${gputel} mock-kmsg --scenario ${scenario} --host-index ${index} --format json --follow`,
    },
  );
});

const url = `http://127.0.0.1:${httpPort}`;
console.log(`
gputel demo: a collector and ${hosts.length} mock-GPU agents (${hosts.join(", ")}).

  Dashboard        ${url}/
  API              ${url}/api/v1/summary
  Prometheus       ${url}/metrics
  MQTT (embedded)  mqtt://127.0.0.1:${mqttPort}
  Data             ${run}

  Try:  bin/gputel query summary --url ${url}
        bin/gputel query gpus --url ${url}
        bin/gputel query flags --url ${url}
        bin/gputel query report utilization --since 1h --by host --url ${url}
        bin/gputel report leases --by tenant --url ${url}
        bin/gputel query report sales --since 1h --url ${url}

Flags appear within a couple of minutes (idle after 1m, overheat after 30s). Kernel-log events: at
90 s an Xid 13 on hgx-b02 GPU 0 (its process trainer), at 2 min an Xid 79 on hgx-b02 GPU 2,
which falls off the bus. Leases, once every GPU has reported: acme rents dgx-a01 (GPU 7 sits
idle-held) and l40s-c03, globex hgx-b02, initech ws-d04 GPU 0; ws-d04 GPU 1 is for sale; after
45 s hgx-b02 GPU 3 moves from globex to initech. Ctrl-C stops everything.
`);
leases = startDemoLeases({ url, hosts, customers, gpuCount, log: (line) => console.log(`[demo] ${line}`) });
