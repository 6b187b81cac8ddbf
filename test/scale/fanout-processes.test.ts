// The process routes' fan-out (http.peers, issue 17): two collectors' real Stores each hold part of
// the fleet's process sets, a third holds every set. Host host-a's agent reports to the first,
// host-b's to the second, and host-m's agent moved from the first to the second while its
// session went on: the session is on both, seen in two stretches, and must be listed and counted
// once. The first collector's API, with the second as its peer, must answer as the third does:
// the list (current and history, with a limit), one GPU's sessions, the report's sums, a tenant's
// pieces (scoped by each collector, never another tenant's), and a peer that is down is named in
// `peers.missing`. `gputel query processes --url a,b` merges the same way.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/query/cli.js";
import { newToken } from "../../collector/api/tokens.js";
import { checkMessage } from "../../collector/ingest/check.js";
import { LeaseService } from "../../collector/leases/service.js";
import { type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { runCaptured } from "../helpers/cli.js";
import {
  type CollectorParts,
  deadPort,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
} from "./fanout-helpers.js";

const TOKEN = "fanout-processes-token-0123456789";
const H = 3_600_000;
const M = 60_000;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const gpu = (n: number) => `GPU-${String(n).repeat(8)}-2222-3333-4444-555555555555`;
const G1 = gpu(1);
const G2 = gpu(2);
const G3 = gpu(3);
const G4 = gpu(4);
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-processes-"));
const started: ServedCollector[] = [];

type Proc = {
  host: string;
  gpuUuid: string;
  pid: number;
  user: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  open: boolean;
  memoryMib: number | null;
};
type Peers = { asked: number; missing: string[] };
type Listing = { current: boolean; truncated?: boolean; processes: Proc[]; peers?: Peers };
type ReportRow = {
  key: string | null;
  sessions: number;
  gpus: number;
  gpuHours: number;
  idleHeldHours: number;
};
type Report = { fromMs: number; toMs: number; by: string; rows: ReportRow[]; peers?: Peers };

function proc(gpu: string, pid: number, user: string, memory: number, startMs: number): IProcessRecord {
  return { gpu_uuid: gpu, pid, start_ms: startMs, name: "python3", used_memory_mib: memory, user };
}
const alice = proc(G1, 100, "alice", 10_000, NOW - 5 * H);
const bob = proc(G2, 200, "bob", 5_000, NOW - 5 * H);
const carol = proc(G3, 300, "carol", 30_000, NOW - 4 * H);
const dave = proc(G4, 400, "dave", 20_000, NOW - 6 * H);

type SetAt = { host: string; seq: number; at: number; list: IProcessRecord[] };
// host-a and its first sets of host-m reach the first collector; host-b and host-m's later sets the second.
const toFirst: SetAt[] = [
  { host: "host-a", seq: 1, at: NOW - 4 * H, list: [alice, bob] },
  { host: "host-a", seq: 2, at: NOW - 2 * H, list: [alice, bob] },
  { host: "host-a", seq: 3, at: NOW - 5 * M, list: [alice] },
  { host: "host-m", seq: 1, at: NOW - 5 * H, list: [dave] },
  { host: "host-m", seq: 2, at: NOW - 4 * H, list: [dave] },
  // host-e moved too, and runs nothing: its sets are empty on both collectors.
  { host: "host-e", seq: 1, at: NOW - 4 * H, list: [] },
];
const toSecond: SetAt[] = [
  { host: "host-b", seq: 1, at: NOW - 3 * H, list: [carol] },
  { host: "host-b", seq: 2, at: NOW - 1 * H, list: [carol] },
  { host: "host-b", seq: 3, at: NOW - 2 * M, list: [carol] },
  { host: "host-m", seq: 3, at: NOW - 3 * H, list: [dave] },
  { host: "host-m", seq: 4, at: NOW - 3 * M, list: [dave] },
  { host: "host-e", seq: 2, at: NOW - 2 * M, list: [] },
];
const G5 = gpu(5);
const G6 = gpu(6);
const inventory = {
  "host-a": [G1, G2],
  "host-b": [G3],
  "host-m": [G4],
  "host-r": [G5],
  "host-e": [G6],
} as const;

function write(parts: CollectorParts, sets: readonly SetAt[]): void {
  const hosts = new Set(sets.map((s) => s.host));
  for (const h of hosts)
    parts.store.writeFrames([frameFor(h, inventory[h as keyof typeof inventory], NOW - 20 * H)], NOW);
  for (const s of [...sets].sort((a, b) => a.at - b.at)) {
    const payload = ProcessSet.encode({
      schema_version: SCHEMA_VERSION,
      host: s.host,
      boot_id: "b1",
      seq: s.seq,
      timestamp_ms: s.at,
      processes: s.list,
    }).finish();
    const checked = checkMessage(topicFor(s.host, "processes"), payload, { username: undefined, nowMs: NOW });
    if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
    parts.store.writeProcesses(checked.processes, s.at);
  }
}

/** The same leases on every collector that knows the device (leases are imported into each). */
function lease(
  parts: CollectorParts,
  id: string,
  device: string,
  tenant: string,
  startMs: number,
  endMs?: number,
) {
  if (!parts.store.fleetGpus().some((g) => g.uuid === device)) return;
  new LeaseService(parts.store.leases, () => NOW).create(
    { id, device, tenant, start: startMs, ...(endMs !== undefined ? { end: endMs } : {}) },
    "test",
  );
}

function collector(name: string, sets: readonly SetAt[]): CollectorParts {
  return collectorIn(dir, name, sets);
}

function collectorIn(at: string, name: string, sets: readonly SetAt[]): CollectorParts {
  const parts = openParts(join(at, `${name}.db`), NOW);
  write(parts, sets);
  lease(parts, "acme-b", G3, "acme", NOW - 2.5 * H, NOW - 1.5 * H);
  lease(parts, "acme-m", G4, "acme", NOW - 4.5 * H);
  lease(parts, "globex-a", G1, "globex", NOW - 8 * H);
  return parts;
}

async function serve(parts: CollectorParts, peers: string[]): Promise<ServedCollector> {
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

async function get<T>(c: ServedCollector, path: string, token = TOKEN): Promise<T> {
  const r = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}

/** A session as the merged list must give it: everything but the collector's own row id. */
const seen = (p: Proc) => ({
  host: p.host,
  gpuUuid: p.gpuUuid,
  pid: p.pid,
  user: p.user,
  firstSeenMs: p.firstSeenMs,
  lastSeenMs: p.lastSeenMs,
  open: p.open,
  memoryMib: p.memoryMib,
});

let first: ServedCollector;
let second: ServedCollector;
let whole: ServedCollector;
let partial: ServedCollector;
let dead: string;
let acme = "";
const FROM = NOW - 8 * H;
const range = `from=${FROM}&to=${NOW}`;

describe("the process routes fan out over peers", () => {
  beforeAll(async () => {
    second = await serve(collector("second", toSecond), []);
    const firstParts = collector("first", toFirst);
    first = await serve(firstParts, [second.url]);
    dead = `http://127.0.0.1:${await deadPort()}`;
    partial = await serve(firstParts, [second.url, dead]);
    whole = await serve(collector("whole", [...toFirst, ...toSecond]), []);
    const t = newToken();
    firstParts.store.tokens.insert(t.id, "tenant:acme", t.digest, "", NOW);
    acme = t.token;
  }, 60_000);

  afterAll(async () => {
    await partial?.server.stop(); // it shares the first collector's store, which stopAll closes
    await stopAll([first, second, whole], dir);
  });

  it("neither collector alone holds the fleet's sessions", async () => {
    const local = await fetch(`${first.url}/api/v1/processes?${range}`, {
      headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
    });
    const body = (await local.json()) as Listing;
    expect(body.processes.map((p) => p.pid).sort()).toEqual([100, 200, 400]);
    expect(body.peers).toBeUndefined();
  });

  it("lists the current holders of every collector's GPUs, biggest memory first", async () => {
    const merged = await get<Listing>(first, "/api/v1/processes");
    const one = await get<Listing>(whole, "/api/v1/processes");
    expect(merged.current).toBe(true);
    expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
    expect(merged.processes.map((p) => p.pid)).toEqual([300, 400, 100]);
    // The moved session's first stretch is on the first collector, where it is no longer current:
    // a current list merges current copies only (docs/processes.md, "Several collectors").
    const early = (p: Proc) => (p.pid === 400 ? { ...seen(p), firstSeenMs: NOW - 3 * H } : seen(p));
    expect(merged.processes.map(seen)).toEqual(one.processes.map(early));
  });

  it("names no host as silent that reports to another collector (host-m and host-e moved to the second)", async () => {
    type Silent = { silentHosts?: string[] };
    const alone = await fetch(`${first.url}/api/v1/processes`, {
      headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
    });
    // The first collector last heard host-m's and host-e's sets 4 h ago: alone it cannot say what
    // runs there. host-e runs nothing now, so no current session tells the merge it reports.
    expect(((await alone.json()) as Silent).silentHosts).toEqual(["host-e", "host-m"]);
    expect((await get<Silent>(first, "/api/v1/processes")).silentHosts).toEqual([]);
    expect((await get<Silent>(whole, "/api/v1/processes")).silentHosts).toEqual([]);
  });

  it("tells the merging collector which hosts send it sets, only the tenant's for a tenant, and nobody else", async () => {
    type Heard = { silentHosts?: string[]; reportingHosts?: string[] };
    const asPeer = async (query: string) => {
      const r = await fetch(`${second.url}/api/v1/processes${query}`, {
        headers: { authorization: `Bearer ${TOKEN}`, "x-gputel-fanout": "1" },
      });
      expect(r.status).toBe(200);
      return (await r.json()) as Heard;
    };
    expect(await asPeer("")).toMatchObject({ reportingHosts: ["host-b", "host-e", "host-m"] });
    // acme holds G4 (host-m) now; its lease of G3 (host-b) has ended.
    expect(await asPeer("?tenant=acme")).toMatchObject({ silentHosts: [], reportingHosts: ["host-m"] });
    expect(await asPeer("?host=host-e")).toMatchObject({ silentHosts: [], reportingHosts: ["host-e"] });
    // A history list speaks for no host now; a direct request is not a merge's.
    expect((await asPeer(`?${range}`)).reportingHosts).toBeUndefined();
    expect((await get<Heard>(second, "/api/v1/processes")).reportingHosts).toBeUndefined();
  });

  it("lists the history newest first, a session on two collectors once, seen over both stretches", async () => {
    const merged = await get<Listing>(first, `/api/v1/processes?${range}`);
    const one = await get<Listing>(whole, `/api/v1/processes?${range}`);
    expect(merged.processes.map((p) => p.pid)).toEqual([300, 400, 100, 200]);
    expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    const moved = merged.processes.find((p) => p.pid === 400);
    expect(moved).toMatchObject({ firstSeenMs: NOW - 5 * H, lastSeenMs: NOW - 3 * M, open: true });
  });

  it("cuts the merged list at limit in the same order, and says so as one collector does", async () => {
    // 4 sessions in all: at 2 the first collector's list (3) is cut, at 3 neither is but the merge
    // is (the second's 2 share a session with the first's 3); it said nothing of either.
    for (const [limit, cut] of [
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ] as const) {
      const merged = await get<Listing>(first, `/api/v1/processes?${range}&limit=${limit}`);
      const one = await get<Listing>(whole, `/api/v1/processes?${range}&limit=${limit}`);
      expect(merged.processes.map((p) => p.pid)).toEqual(one.processes.map((p) => p.pid));
      expect([merged.truncated, one.truncated], `limit ${limit}`).toEqual([cut, cut]);
    }
    const current = await get<Listing>(first, "/api/v1/processes?limit=1");
    expect(current.processes.map((p) => p.pid)).toEqual([300]);
    expect(current.truncated).toBe(true);
    expect((await get<Listing>(first, "/api/v1/processes")).truncated).toBe(false);
    // One GPU's sessions from the peer that holds it: a session on both collectors counts once.
    expect((await get<Listing>(first, `/api/v1/gpus/${G3}/processes?limit=1`)).truncated).toBe(false);
    expect((await get<Listing>(first, `/api/v1/gpus/${G4}/processes?${range}&limit=1`)).truncated).toBe(
      false,
    );
  });

  it("gputel query processes --url a,b cut at --limit says so on stderr, as one collector's list", async () => {
    const both = ["--url", `${first.url},${second.url}`, "--since", String(FROM), "--until", String(NOW)];
    const cli = await runCaptured(run, ["processes", ...both, "--limit", "3", "--csv"], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    // It printed nothing there: 3 of the 4 sessions looked like the whole list.
    expect([cli.code, cli.err]).toEqual([
      0,
      "gputel query: showing 3 (more exist); use --limit N for more\n",
    ]);
    expect(cli.out.split("\n")).toHaveLength(5);
  });

  it("one GPU's sessions come from every collector that holds some", async () => {
    const merged = await get<Listing>(first, `/api/v1/gpus/${G4}/processes?${range}`);
    const one = await get<Listing>(whole, `/api/v1/gpus/${G4}/processes?${range}`);
    expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    expect(merged.processes).toHaveLength(1);
    expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
    const filtered = await get<Listing>(first, `/api/v1/processes?gpu=${G4}&${range}`);
    expect(filtered.processes.map(seen)).toEqual(one.processes.map(seen));
  });

  it("processes?gpu= of a GPU only the peer knows: the peer's sessions; a GPU none knows is a 404", async () => {
    // G3 (host-b) reports to the second collector only.
    const one = await get<Listing>(whole, `/api/v1/processes?gpu=${G3}&${range}`);
    const merged = await get<Listing>(first, `/api/v1/processes?gpu=${G3}&${range}`);
    expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
    expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    expect(merged.processes.map((p) => p.pid)).toEqual([300]);
    const G9 = gpu(9);
    const none = await fetch(`${first.url}/api/v1/processes?gpu=${G9}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", parameter: "gpu" });
    // The peer that is down may hold it: the partial answer, naming it.
    const down = await get<Listing>(partial, `/api/v1/processes?gpu=${G9}`);
    expect(down).toMatchObject({ processes: [], peers: { asked: 2, missing: [dead] } });
  });

  it("a tenant's sessions on a GPU only the peer knows; a GPU it never leased is the 404 of an unknown one", async () => {
    const mine = await get<Listing>(first, `/api/v1/processes?gpu=${G3}&${range}`, acme);
    const one = await get<Listing>(whole, `/api/v1/processes?gpu=${G3}&${range}&tenant=acme`);
    expect(mine.processes.map(seen)).toEqual(one.processes.map(seen));
    expect(mine.processes.map((p) => p.pid)).toEqual([300]);
    const refused = [];
    for (const [g, path] of [
      [G3, `/api/v1/processes?gpu=${G3}&${range}&tenant=globex`],
      [gpu(9), `/api/v1/processes?gpu=${gpu(9)}&${range}&tenant=globex`],
      [G1, `/api/v1/processes?gpu=${G1}&${range}`],
    ] as const) {
      const r = await fetch(`${first.url}${path}`, {
        headers: { authorization: `Bearer ${path.includes("globex") ? TOKEN : acme}` },
      });
      expect(r.status, path).toBe(404);
      refused.push(((await r.json()) as { message: string }).message.replace(g, "GPU"));
    }
    expect(new Set(refused).size).toBe(1);
  });

  it("gpus/:id/processes of a GPU only the peer knows: the GPU and its sessions from the peer", async () => {
    const one = await get<Listing & { gpu: unknown }>(whole, `/api/v1/gpus/${G3}/processes?${range}`);
    for (const ref of [G3, "host-b:0"]) {
      const merged = await get<Listing & { gpu: unknown }>(first, `/api/v1/gpus/${ref}/processes?${range}`);
      expect(merged.gpu).toEqual({ uuid: G3, host: "host-b", index: 0 });
      expect(merged.gpu).toEqual(one.gpu);
      expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
      expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    }
    const current = await get<Listing>(first, `/api/v1/gpus/${G3}/processes`);
    expect(current.processes.map((p) => p.pid)).toEqual([300]);
    const none = await fetch(`${first.url}/api/v1/gpus/${gpu(9)}/processes`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: "not_found", parameter: "gpu" });
    const down = await fetch(`${partial.url}/api/v1/gpus/${gpu(9)}/processes`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(down.status).toBe(404);
    expect(await down.json()).toMatchObject({ peers: { asked: 2, missing: [dead] } });
  });

  it("gpus/:id/processes for a tenant: its piece from the peer; a GPU it never leased, the same 404", async () => {
    const mine = await get<Listing>(first, `/api/v1/gpus/${G3}/processes?${range}`, acme);
    const one = await get<Listing>(whole, `/api/v1/gpus/${G3}/processes?${range}&tenant=acme`);
    expect(mine.processes.map(seen)).toEqual(one.processes.map(seen));
    expect(mine.processes.map((p) => p.pid)).toEqual([300]);
    const refused = [];
    for (const [g, token] of [
      [G1, acme],
      [gpu(9), acme],
    ] as const) {
      const r = await fetch(`${first.url}/api/v1/gpus/${g}/processes?${range}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status, g).toBe(404);
      refused.push(JSON.stringify(await r.json()).replace(g, "GPU"));
    }
    expect(refused[0]).toBe(refused[1]);
    const globex = await fetch(`${first.url}/api/v1/gpus/${G3}/processes?${range}&tenant=globex`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(globex.status).toBe(404);
  });

  it("adds the report's sums exactly: each session counted once, over every collector's sets", async () => {
    for (const by of ["user", "job"]) {
      const merged = await get<Report>(first, `/api/v1/reports/processes?${range}&by=${by}`);
      const one = await get<Report>(whole, `/api/v1/reports/processes?${range}&by=${by}`);
      expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
      const { peers: _p, ...rest } = merged;
      expect(rest).toEqual(one);
    }
    const merged = await get<Report>(first, `/api/v1/reports/processes?${range}`);
    expect(merged.rows.find((r) => r.key === "dave")).toEqual({
      key: "dave",
      sessions: 1,
      gpus: 1,
      gpuHours: Math.round(((5 * H - 3 * M) / H) * 1000) / 1000,
      idleHeldHours: 0,
    });
  });

  it("a tenant sees its own pieces from the peer too, each clipped to its stay, never another tenant's", async () => {
    const merged = await get<Listing>(first, `/api/v1/processes?${range}`, acme);
    const one = await get<Listing>(whole, `/api/v1/processes?${range}&tenant=acme`);
    // Merged pieces are newest first (one collector lists a session's pieces after the session's order).
    const byPid = (a: Proc, b: Proc) => a.pid - b.pid;
    expect(merged.processes.map((p) => p.pid)).toEqual([400, 300]);
    expect([...merged.processes].sort(byPid).map(seen)).toEqual([...one.processes].sort(byPid).map(seen));
    expect(merged.processes.find((p) => p.pid === 300)).toMatchObject({
      firstSeenMs: NOW - 2.5 * H,
      lastSeenMs: NOW - 1.5 * H - 1,
    });
    // The moved session: one piece from the lease's start, not a piece per collector.
    expect(merged.processes.filter((p) => p.pid === 400)).toHaveLength(1);
    expect(merged.processes.find((p) => p.pid === 400)).toMatchObject({ firstSeenMs: NOW - 4.5 * H });
    // Asking for another tenant's view still gets its own.
    const other = await get<Listing>(first, `/api/v1/processes?${range}&tenant=globex`, acme);
    expect(other.processes.map((p) => p.pid).sort()).toEqual([300, 400]);
    const report = await get<Report>(first, `/api/v1/reports/processes?${range}`, acme);
    const oneReport = await get<Report>(whole, `/api/v1/reports/processes?${range}&tenant=acme`);
    const { peers: _p, ...rest } = report;
    expect(rest).toEqual(oneReport);
    expect(report.rows.map((r) => r.key).sort()).toEqual(["carol", "dave"]);
    // An admin asking for globex's view gets globex's sessions only.
    const globex = await get<Listing>(first, `/api/v1/processes?${range}&tenant=globex`);
    expect(globex.processes.map((p) => p.pid)).toEqual([100]);
  });

  it("a peer that is down makes the answer partial, flagged, not an error", async () => {
    const list = await get<Listing>(partial, `/api/v1/processes?${range}`);
    expect(list.peers).toMatchObject({ asked: 2, missing: [dead] });
    expect(list.processes.map((p) => p.pid)).toEqual([300, 400, 100, 200]);
    const one = await get<Listing>(partial, `/api/v1/gpus/${G4}/processes?${range}`);
    expect(one.peers).toMatchObject({ asked: 2, missing: [dead] });
    const report = await get<Report>(partial, `/api/v1/reports/processes?${range}`);
    expect(report.peers).toMatchObject({ asked: 2, missing: [dead] });
    expect(report.rows.map((r) => r.key).sort()).toEqual(["alice", "bob", "carol", "dave"]);
  });

  it("gputel query processes --url a,b merges both collectors as one", async () => {
    const since = ["--since", String(FROM), "--until", String(NOW)];
    const merged = await queryJson<Listing>(
      ["processes", "--url", `${first.url},${second.url}`, ...since],
      TOKEN,
    );
    const one = await get<Listing>(whole, `/api/v1/processes?${range}`);
    expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    const current = await queryJson<Listing>(["processes", "--url", `${first.url},${second.url}`], TOKEN);
    expect(current.processes.map((p) => p.pid)).toEqual([300, 400, 100]);
    const report = await queryJson<Report>(
      ["report", "processes", "--url", `${first.url},${second.url}`, ...since],
      TOKEN,
    );
    const oneReport = await get<Report>(whole, `/api/v1/reports/processes?${range}`);
    expect(report).toEqual(oneReport);
  });

  it("gputel query processes GPU --url a,b: the sessions from the collector that holds the GPU", async () => {
    // G3 reports to the second collector only; each is asked for its own data.
    const urls = ["--url", `${first.url},${second.url}`];
    const since = ["--since", String(FROM), "--until", String(NOW)];
    const one = await get<Listing & { gpu: unknown }>(whole, `/api/v1/gpus/${G3}/processes?${range}`);
    const merged = await queryJson<Listing & { gpu: unknown }>(["processes", G3, ...urls, ...since], TOKEN);
    expect(merged.gpu).toEqual(one.gpu);
    expect(merged.processes.map(seen)).toEqual(one.processes.map(seen));
    const filtered = await queryJson<Listing>(["processes", "--gpu", G3, ...urls, ...since], TOKEN);
    expect(filtered.processes.map(seen)).toEqual(one.processes.map(seen));
    expect(filtered).not.toHaveProperty("gpuHeld");
    for (const args of [
      ["processes", gpu(9)],
      ["processes", "--gpu", gpu(9)],
      ["flags", "--gpu", gpu(9)],
    ]) {
      const none = await runCaptured(run, [...args, ...urls], { GPUTEL_API_TOKEN: TOKEN });
      expect(none.code, `${args.join(" ")}: ${none.err}`).toBe(65);
      expect(none.err).toContain(`no GPU "${gpu(9)}"`);
    }
  });

  it("report processes --url a,b refuses an unknown --by before asking any collector", async () => {
    // The second collector is a dead port: a request sent before the check would fail there.
    const r = await runCaptured(
      run,
      ["report", "processes", "--url", `${first.url},${dead}`, "--by", "team"],
      {
        GPUTEL_API_TOKEN: TOKEN,
      },
    );
    expect(r.code).toBe(64);
    expect(r.err).toContain("--by must be one of user");
  });
});

// host-r's sets reach the two collectors in turn (round robin), so each holds a copy of erin's
// session seen over its whole run; acme's two leases of its GPU, back to back, were made one on
// each collector. Each collector clips its copy to its own lease: the pieces meet end to start.
describe("a session over two back-to-back leases held by different collectors", () => {
  const rrDir = mkdtempSync(join(tmpdir(), "gputel-fanout-process-stays-"));
  const erin = proc(G5, 500, "erin", 8_000, NOW - 7 * H);
  const sets: SetAt[] = [];
  for (let at = NOW - 6 * H, seq = 1; at <= NOW - H; at += 10 * M, seq += 1)
    sets.push({ host: "host-r", seq, at, list: [erin] });
  const served: ServedCollector[] = [];
  let front: ServedCollector;
  let reference: ServedCollector;
  beforeAll(async () => {
    const a = collectorIn(
      rrDir,
      "rr-first",
      sets.filter((_, i) => i % 2 === 0),
    );
    const b = collectorIn(
      rrDir,
      "rr-second",
      sets.filter((_, i) => i % 2 === 1),
    );
    const all = collectorIn(rrDir, "rr-whole", sets);
    lease(a, "acme-r1", G5, "acme", NOW - 5 * H, NOW - 4 * H);
    lease(b, "acme-r2", G5, "acme", NOW - 4 * H, NOW - 3 * H);
    lease(all, "acme-r1", G5, "acme", NOW - 5 * H, NOW - 4 * H);
    lease(all, "acme-r2", G5, "acme", NOW - 4 * H, NOW - 3 * H);
    const peer = await serveParts(b, { nowMs: NOW, token: TOKEN, peers: [], leases: true });
    served.push(peer);
    front = await serveParts(a, { nowMs: NOW, token: TOKEN, peers: [peer.url], leases: true });
    served.push(front);
    reference = await serveParts(all, { nowMs: NOW, token: TOKEN, peers: [], leases: true });
    served.push(reference);
  }, 60_000);
  afterAll(async () => {
    await stopAll(served, rrDir);
  });

  it("the tenant's report counts one session over both leases' time, as one collector holding both reports", async () => {
    const merged = await get<Report>(front, `/api/v1/reports/processes?${range}&tenant=acme`);
    const one = await get<Report>(reference, `/api/v1/reports/processes?${range}&tenant=acme`);
    expect(merged.peers).toMatchObject({ asked: 1, missing: [] });
    // The two leases' time, from the first lease's start to the last instant of the second.
    const erinRow = { key: "erin", sessions: 1, gpus: 1, gpuHours: 2, idleHeldHours: 0 };
    expect(one.rows).toEqual([erinRow]);
    const { peers: _p, ...rest } = merged;
    expect(rest).toEqual(one);
  });
});
