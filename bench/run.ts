// `npm run bench [-- --smoke] [-- --only PREFIX]`: every benchmark, one JSON object per line
// ({"name","value","unit"}), names as the issues give them. `--smoke` runs each at a small size
// (CI: figures printed, no thresholds asserted). Run with vite-node so the TypeScript benches load.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BenchFigure } from "./common.js";
import { realHolderScenario } from "./real-holders.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const onlyIndex = args.indexOf("--only");
// --only takes one prefix or several, comma-separated ("--only ingest,peer").
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? "").split(",") : undefined;
const size = smoke ? "smoke" : "full";
const root = new URL("..", import.meta.url).pathname;

const printed = new Map<string, number>();

function print(figure: BenchFigure): void {
  printed.set(figure.name, figure.value);
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** The agent unit's NODE_OPTIONS (systemd/gputel-agent.service): the agent is measured as shipped. */
function agentNodeFlags(): string {
  const unit = readFileSync(join(root, "systemd/gputel-agent.service"), "utf8");
  return /\nEnvironment="?NODE_OPTIONS=([^"\n]*)"?\n/.exec(unit)?.[1]?.trim() ?? "";
}

/** The agent unit's WatchdogSec= in µs (WATCHDOG_USEC as systemd gives it), or undefined. */
function agentWatchdogUsec(): number | undefined {
  const unit = readFileSync(join(root, "systemd/gputel-agent.service"), "utf8");
  const sec = /\nWatchdogSec=(\d+)s\n/.exec(unit)?.[1];
  return sec === undefined ? undefined : Number(sec) * 1_000_000;
}

async function agentOverhead(kernelLog = false, processes = false): Promise<BenchFigure[]> {
  const nodeFlags = agentNodeFlags();
  const watchdogUsec = agentWatchdogUsec();
  const seconds = smoke ? 8 : 60;
  const warmup = smoke ? 3 : 10;
  const gputel = join(root, "bin/gputel");
  const holders = processes ? await realHolderScenario() : undefined;
  const scenario = holders?.scenario ?? join(root, "scenarios/bench-8gpu.yaml");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(root, "bench/agent-overhead.mjs"),
      "--nvidia-smi",
      `${gputel} mock-smi --scenario ${scenario} --`,
      ...(kernelLog
        ? ["--kernel-log", `${gputel} mock-kmsg --scenario ${scenario} --format json --follow`]
        : []),
      ...(processes ? ["--processes"] : []),
      "--seconds",
      String(seconds),
      "--warmup",
      String(warmup),
    ],
    {
      env: {
        ...process.env,
        TMPDIR: mkdtempSync(join(tmpdir(), "gputel-bench-clock-")),
        GPUTEL_AGENT_NODE_FLAGS: process.env.GPUTEL_AGENT_NODE_FLAGS ?? nodeFlags,
        ...(watchdogUsec !== undefined ? { GPUTEL_AGENT_WATCHDOG_USEC: String(watchdogUsec) } : {}),
      },
      timeout: (seconds + warmup + 60) * 1000,
    },
  ).finally(() => holders?.stop());
  const flags = process.env.GPUTEL_AGENT_NODE_FLAGS ?? nodeFlags;
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as BenchFigure)
    .map((figure) => (flags ? { ...figure, unit: `${figure.unit}; node ${flags}` } : figure));
}

const BENCHES: [string, () => Promise<BenchFigure[]>][] = [
  ["agent.parse", async () => (await import("./agent-parse.js")).benchParse()],
  ["agent.kernel_log", async () => (await import("./kernel-log.js")).benchKernelLog(size)],
  ["agent.process", () => agentOverhead()],
  // Both sources: agent.cpu_pct with the kernel-log source following its reader (issue 16).
  [
    "agent.process_with_kernel_log",
    async () =>
      (await agentOverhead(true))
        .filter((figure) => figure.name === "agent.cpu_pct")
        .map((figure) => ({ ...figure, name: "agent.cpu_pct_with_kernel_log" })),
  ],
  // The processes source on 8 GPUs x 16 processes (issue 17): the agent's own CPU, the pmon
  // child's among the children, and the largest ProcessSet.
  [
    "agent.processes",
    async () =>
      (await agentOverhead(false, true)).flatMap((figure) =>
        figure.name === "agent.cpu_pct"
          ? [{ ...figure, name: "agent.cpu_pct_processes" }]
          : figure.name === "agent.nvidia_smi_cpu_pct"
            ? [{ ...figure, name: "agent.nvidia_smi_cpu_pct_processes" }]
            : figure.name.startsWith("agent.process_set")
              ? [figure]
              : [],
      ),
  ],
  ["spool", async () => (await import("./spool.js")).benchSpool()],
  ["store", async () => (await import("./store.js")).benchStore(size)],
  ["ingest", async () => (await import("./ingest.js")).benchIngest(size)],
  [
    "ingest.lag_during_report",
    async () => (await import("./ingest-during-report.js")).benchIngestDuringReport(size),
  ],
  ["peer", async () => (await import("./peer.js")).benchPeer(size)],
  ["collector.rss", async () => (await import("./collector-rss.js")).benchCollectorRss(size)],
  ["flags", async () => (await import("./flags.js")).benchFlags()],
  ["report", async () => (await import("./report.js")).benchReport(size)],
  // Every tenant's monthly statement over 10,000 GPUs and 20,000 leases (issue 15).
  ["report.statement", async () => (await import("./statement.js")).benchStatement(size)],
  ["api", async () => (await import("./api.js")).benchApi(size)],
  // What the first heavy read after a snapshot expires waits for on a live collector.
  ["api.reader_refresh", async () => (await import("./reader-refresh.js")).benchReaderRefresh(size)],
  ["remote_write", async () => (await import("./remote-write.js")).benchRemoteWrite(size)],
  ["export", async () => (await import("./export.js")).benchExport(size)],
  ["dashboard", async () => (await import("./dashboard.js")).benchDashboard(size)],
];

print({ name: "machine.cores", value: cpus().length, unit: `cores (${cpus()[0]?.model ?? "unknown"})` });
print({ name: "machine.memory_gib", value: Math.round(totalmem() / 2 ** 30), unit: "GiB" });
let failed = 0;
for (const [name, bench] of BENCHES) {
  if (only && !only.some((prefix) => name.startsWith(prefix))) continue;
  try {
    for (const figure of await bench()) print(figure);
  } catch (error) {
    failed += 1;
    process.stderr.write(`bench ${name} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
}
// Ours end to end (live frames through the broker into the store) / VictoriaMetrics' import, same run.
const ours = printed.get("ingest.samples_per_s");
const theirs = printed.get("peer.victoriametrics.import_samples_per_s");
if (ours !== undefined && theirs !== undefined) {
  print({
    name: "ingest.vs_victoriametrics",
    value: Math.round((ours / theirs) * 1000) / 1000,
    unit: "ratio",
  });
}
// The same with agents replaying spooled batches (bench/ingest.ts) against the same import.
const replayed = printed.get("ingest.samples_per_s_replayed");
if (replayed !== undefined && theirs !== undefined) {
  print({
    name: "ingest.vs_victoriametrics_replayed",
    value: Math.round((replayed / theirs) * 1000) / 1000,
    unit: "ratio",
  });
}
process.exit(failed > 0 ? 1 : 0);
