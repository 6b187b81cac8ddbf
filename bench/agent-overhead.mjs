#!/usr/bin/env node
// Measures the agent process's own cost: CPU (% of one core, user+system from /proc) and RSS,
// sampling at a fixed interval against a real broker (aedes in-process), after a warm-up.
// Usage: node bench/agent-overhead.mjs --nvidia-smi "CMD" [--kernel-log "CMD"] [--processes]
//        [--seconds 60] [--interval 1s] [--warmup 10] [--prefix agent]
// --processes also runs the processes source (its defaults: compute apps every 10 s, pmon every
// 5 s, a set on change and every 60 s) and reports the process sets' size.
// Prints JSON lines {"name","value","unit"}; the children's CPU (nvidia-smi, and the kernel-log
// reader with --kernel-log, which also runs the kernel-log source) is reported apart.
// GPUTEL_AGENT_WATCHDOG_USEC (bench/run.ts: the unit's WatchdogSec=) runs the agent as systemd
// does, with WATCHDOG_USEC and a NOTIFY_SOCKET, so it forks systemd-notify for its pings as in
// production. Nothing listens on that socket, so each systemd-notify fails at once: what the
// agent pays, the spawn and the copy-on-write faults after it, is the same.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";
import mqtt from "mqtt";

const { values } = parseArgs({
  options: {
    "nvidia-smi": { type: "string" },
    seconds: { type: "string", default: "60" },
    interval: { type: "string", default: "1s" },
    warmup: { type: "string", default: "10" },
    prefix: { type: "string", default: "agent" },
    "kernel-log": { type: "string" },
    processes: { type: "boolean", default: false },
  },
});
const root = new URL("..", import.meta.url).pathname;
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const ticks = 100; // USER_HZ on Linux

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (own, not children)
}
function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}
function childPids(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(
        ...readFileSync(`/proc/${pid}/task/${task}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      );
    } catch {}
  }
  return out;
}
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

const aedes = new Aedes();
await aedes.listen();
const server = createServer(aedes.handle);
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `mqtt://127.0.0.1:${server.address().port}`;
let frames = 0;
const sets = [];
const sub = await mqtt.connectAsync(url, { protocolVersion: 5 });
sub.on("message", (topic, payload) => {
  if (topic.endsWith("/processes")) sets.push(payload.byteLength);
  else frames += 1;
});
await sub.subscribeAsync("gputel/v1/+/frame", { qos: 1 });
if (values.processes) await sub.subscribeAsync("gputel/v1/+/processes", { qos: 1 });

const stateDir = mkdtempSync(join(tmpdir(), "gputel-bench-agent-"));
const nodeFlags = (process.env.GPUTEL_AGENT_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const agent = spawn(
  process.execPath,
  [
    ...nodeFlags,
    join(root, "bin/gputel"),
    "agent",
    "--nvidia-smi",
    values["nvidia-smi"],
    "--broker",
    url,
    "--host",
    "bench-host",
    "--interval",
    values.interval,
    "--state-dir",
    stateDir,
    "--log-level",
    "warn",
  ],
  {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      ...(process.env.GPUTEL_AGENT_WATCHDOG_USEC
        ? {
            NOTIFY_SOCKET: join(stateDir, "notify.sock"),
            WATCHDOG_USEC: process.env.GPUTEL_AGENT_WATCHDOG_USEC,
          }
        : {}),
      ...(values["kernel-log"] ? { GPUTEL_KERNEL_LOG_COMMAND: values["kernel-log"] } : {}),
      ...(values["kernel-log"] || values.processes
        ? {
            GPUTEL_SOURCES: `[${["nvidia-smi", values["kernel-log"] ? "kernel-log" : "", values.processes ? "processes" : ""].filter(Boolean).join(", ")}]`,
          }
        : {}),
    },
  },
);

await wait(warmup * 1000);
const startTicks = cpuTicks(agent.pid);
const startFrames = frames;
const smiStart = new Map(childPids(agent.pid).map((p) => [p, cpuTicks(p)]));
const t0 = performance.now();
let maxRss = 0;
const rssSamples = [];
for (let i = 0; i < seconds; i++) {
  await wait(1000);
  const r = rssMb(agent.pid);
  rssSamples.push(r);
  maxRss = Math.max(maxRss, r);
}
const elapsed = (performance.now() - t0) / 1000;
const cpuPct = ((cpuTicks(agent.pid) - startTicks) / ticks / elapsed) * 100;
let smiTicks = 0;
for (const pid of childPids(agent.pid)) {
  try {
    smiTicks += cpuTicks(pid) - (smiStart.get(pid) ?? 0);
  } catch {}
}
const received = frames - startFrames;
agent.kill("SIGTERM");
await new Promise((r) => agent.once("exit", r));
await sub.endAsync();
server.close();
aedes.close();
rmSync(stateDir, { recursive: true, force: true });
rssSamples.sort((a, b) => a - b);
const p = values.prefix;
for (const line of [
  { name: `${p}.cpu_pct`, value: Number(cpuPct.toFixed(3)), unit: "% of one core" },
  {
    name: `${p}.rss_mb`,
    value: Number(rssSamples[Math.floor(rssSamples.length / 2)].toFixed(1)),
    unit: "MB (median)",
  },
  { name: `${p}.rss_max_mb`, value: Number(maxRss.toFixed(1)), unit: "MB" },
  {
    name: `${p}.nvidia_smi_cpu_pct`,
    value: Number(((smiTicks / ticks / elapsed) * 100).toFixed(3)),
    unit: "% of one core",
  },
  { name: `${p}.frames_per_s`, value: Number((received / elapsed).toFixed(3)), unit: "frames/s" },
  ...(values.processes
    ? [
        { name: `${p}.process_sets`, value: sets.length, unit: "messages (whole run)" },
        { name: `${p}.process_set_bytes`, value: Math.max(0, ...sets), unit: "bytes (largest ProcessSet)" },
      ]
    : []),
])
  console.log(JSON.stringify(line));
process.exit(0);
