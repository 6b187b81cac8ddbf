// Issue 13 item 8: outside systemd, the collector's database (with its -wal and -shm) and the
// agent's spool followed the umask (0644) and the agent's state directory was 0755. Under umask
// 022, the real programs (bin/gputel, built dist/) must create them 0600 and 0700.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { ROOT, type Spawned, spawnGputel } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";

const H100 = join(
  ROOT,
  "test/fixtures/nvidia-smi/captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
);

let base: string;
let umask: number;
const running: Spawned[] = [];

beforeAll(() => {
  umask = process.umask(0o022); // the children inherit it
  base = mkdtempSync(join(tmpdir(), "gputel-sec-modes-"));
});
afterEach(async () => {
  for (const run of running.splice(0)) {
    run.child.kill("SIGTERM");
    await run.exited;
  }
});
afterAll(() => {
  process.umask(umask);
  rmSync(base, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

it("the collector creates its state directories 0700 and its database, -wal and -shm 0600", async () => {
  const database = join(base, "collector-state", "data", "collector.db");
  const run = spawnGputel([
    "collector",
    "--database",
    database,
    "--listen",
    `127.0.0.1:${await freePort()}`,
    "--http",
    `127.0.0.1:${await freePort()}`,
  ]);
  running.push(run);
  await waitFor(() => run.output().includes("Collector started"), 20_000, `the collector: ${run.output()}`);
  expect({
    state: mode(join(base, "collector-state")),
    data: mode(join(base, "collector-state", "data")),
    db: mode(database),
    wal: mode(`${database}-wal`),
    shm: mode(`${database}-shm`),
  }).toEqual({ state: "700", data: "700", db: "600", wal: "600", shm: "600" });
});

it("the agent creates its state directory 0700 and its spool, -wal and -shm 0600", async () => {
  const stateDir = join(base, "agent-state", "gputel-agent");
  const run = spawnGputel([
    "agent",
    "--nvidia-smi",
    `${join(ROOT, "bin/gputel")} mock-smi --replay ${H100} --`,
    "--broker",
    `mqtt://127.0.0.1:${await freePort()}`, // nobody listens: frames stay in the spool
    "--host",
    "modes-host",
    "--interval",
    "200ms",
    "--state-dir",
    stateDir,
  ]);
  running.push(run);
  const spool = join(stateDir, "spool.db");
  await waitFor(() => existsSync(`${spool}-wal`), 20_000, `the spool's WAL: ${run.output()}`);
  expect({
    parent: mode(join(base, "agent-state")),
    state: mode(stateDir),
    spool: mode(spool),
    wal: mode(`${spool}-wal`),
    shm: mode(`${spool}-shm`),
  }).toEqual({ parent: "700", state: "700", spool: "600", wal: "600", shm: "600" });
});
