// /api/v1/processes, /api/v1/gpus/:id/processes and /api/v1/reports/processes on a real collector:
// current and history, filters, the report by user and job, and a tenant's scope (only its leased
// GPU, only during its lease), and each session's SM and memory shares.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../../cli/query/cli.js";
import { newToken } from "../../../collector/api/tokens.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import { processesCsv } from "../../../collector/reports/report-csv.js";
import type { ProcessRow } from "../../../collector/store/process-store.js";
import { AbsentReason, type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { runCaptured } from "../../helpers/cli.js";
import { startTestCollector, type TestCollector } from "../../security/collector-helpers.js";
import { frameFor } from "../leases/store-helpers.js";

const TOKEN = "processes-admin-token-0123456789";
const G1 = "GPU-11111111-2222-3333-4444-555555555555";
const G2 = "GPU-66666666-2222-3333-4444-555555555555";
const G3 = "GPU-77777777-2222-3333-4444-555555555555";
const G4 = "GPU-88888888-2222-3333-4444-555555555555";
const H = 3_600_000;
const NOW = Date.now();
const HOST = "host-a";
const FROM = new Date(NOW - 5 * H).toISOString();

let c: TestCollector;
let tenantToken = "";

function proc(gpu: string, pid: number, user: string, job: string): IProcessRecord {
  return {
    gpu_uuid: gpu,
    pid,
    start_ms: NOW - 4 * H,
    name: "python3",
    used_memory_mib: 40_000,
    user,
    workload_kind: "slurm",
    slurm_job_id: job,
  };
}

function writeSet(seq: number, at: number, list: IProcessRecord[], host = HOST): void {
  const payload = ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: "b1",
    seq,
    timestamp_ms: at,
    processes: list,
  }).finish();
  const checked = checkMessage(topicFor(host, "processes"), payload, { username: undefined, nowMs: NOW });
  if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
  c.running.store.writeProcesses(checked.processes, at);
}

async function get(path: string, token = TOKEN) {
  const response = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** `gputel query ARGS` against the test collector, as an admin; its standard output. */
async function query(...args: string[]): Promise<string> {
  let out = "";
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: () => {},
    env: { GPUTEL_API_TOKEN: TOKEN },
    isTTY: false,
  };
  expect(await run([...args, "--url", c.url], io)).toBe(0);
  return out;
}

/** Leases `device` to tenant acme from 3 h ago, open-ended, through the API. */
async function leaseToAcme(id: string, device: string): Promise<void> {
  const lease = await fetch(`${c.url}/api/v1/leases`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ id, device, tenant: "acme", start: new Date(NOW - 3 * H).toISOString() }),
  });
  expect(lease.status).toBe(201);
}

/** Two current holders on `gpu`: 901 (most memory) since 3 min ago, 902 joined a minute ago. */
function twoHolders(host: string, gpu: string): void {
  c.running.store.writeFrames([frameFor(host, [gpu], NOW - 20 * H)], NOW);
  const big = { ...proc(gpu, 901, "gina", "9"), used_memory_mib: 30_000 };
  const small = { ...proc(gpu, 902, "gina", "9"), used_memory_mib: 5_000 };
  writeSet(1, NOW - 3 * 60_000, [big], host);
  writeSet(2, NOW - 60_000, [big, small], host);
}

const pids = (body: Record<string, unknown>) =>
  (body.processes as { pid: number }[]).map((p) => p.pid).sort((a, b) => a - b);

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  c.running.store.writeFrames([frameFor(HOST, [G1, G2], NOW - 20 * H)], NOW);
  c.running.store.writeFrames([frameFor("host-b", [G3], NOW - 20 * H)], NOW);
  c.running.store.writeFrames([frameFor("host-c", [G4], NOW - 20 * H)], NOW);
  // 4 h ago: alice on G1 (job 1) and bob on G2 (job 2); 2 h ago bob's job ended; now alice alone.
  writeSet(1, NOW - 4 * H, [proc(G1, 100, "alice", "1"), proc(G2, 200, "bob", "2")]);
  writeSet(2, NOW - 2 * H, [proc(G1, 100, "alice", "1"), proc(G2, 200, "bob", "2")]);
  writeSet(3, NOW - 2 * H + 60_000, [proc(G1, 100, "alice", "1")]);
  writeSet(4, NOW - 60_000, [proc(G1, 100, "alice", "1")]);
  const t = newToken();
  c.running.store.tokens.insert(t.id, "tenant:acme", t.digest, "", NOW);
  tenantToken = t.token;
  await leaseToAcme("acme-1", G2);
});
afterAll(async () => {
  await c?.close();
});

describe("process routes", () => {
  test("current by default, history over a range, per GPU, filtered", async () => {
    expect(pids((await get("/api/v1/processes")).body)).toEqual([100]);
    const history = await get(`/api/v1/processes?from=${FROM}`);
    expect(pids(history.body)).toEqual([100, 200]);
    expect(
      (history.body.processes as { user: string; jobId: string }[]).find((p) => p.user === "bob"),
    ).toMatchObject({
      jobId: "2",
      open: false,
      peakMemoryMib: 40_000,
    });
    expect(pids((await get(`/api/v1/gpus/${G2}/processes?from=${FROM}`)).body)).toEqual([200]);
    expect(pids((await get(`/api/v1/processes?from=${FROM}&user=alice`)).body)).toEqual([100]);
    expect((await get("/api/v1/processes?user=a%20b")).status).toBe(400);
    expect((await get("/api/v1/gpus/GPU-nope/processes")).status).toBe(404);
  });

  test("report: GPU-hours by user and job", async () => {
    const r = await get(`/api/v1/reports/processes?from=${new Date(NOW - 5 * H).toISOString()}&by=user`);
    const rows = r.body.rows as { key: string; gpuHours: number; sessions: number }[];
    expect(rows.map((x) => x.key)).toEqual(["alice", "bob"]);
    expect(rows[0]?.gpuHours).toBeCloseTo(4 - 1 / 60, 2);
    expect(rows[1]?.gpuHours).toBeCloseTo(2, 2);
    const jobs = await get(`/api/v1/reports/processes?from=${FROM}&by=job`);
    expect((jobs.body.rows as { key: string }[]).map((x) => x.key)).toEqual(["1", "2"]);
  });

  test("a tenant sees only its leased GPU, during its lease", async () => {
    const now = await get("/api/v1/processes", tenantToken);
    expect(now.status).toBe(200);
    expect(pids(now.body)).toEqual([]);
    const history = await get(`/api/v1/processes?from=${FROM}`, tenantToken);
    const rows = history.body.processes as { pid: number; firstSeenMs: number }[];
    expect(rows.map((p) => p.pid)).toEqual([200]);
    // Clipped to the lease: bob's session began 4 h ago, the lease 3 h ago.
    expect(rows[0]?.firstSeenMs).toBe(NOW - 3 * H);
    expect((await get(`/api/v1/gpus/${G1}/processes?from=${FROM}`, tenantToken)).status).toBe(404);
    const report = await get(`/api/v1/reports/processes?from=${FROM}`, tenantToken);
    expect((report.body.rows as { key: string; gpuHours: number }[]).map((x) => [x.key, x.gpuHours])).toEqual(
      [["bob", 1]],
    );
  });

  test("gputel query processes and report processes", async () => {
    const now = await query("processes");
    expect(now).toMatch(/^GPU\s+PID\s+NAME\s+USER/);
    expect(now).toContain("alice");
    expect(now).not.toContain("bob");
    expect(await query("processes", "--since", FROM, "--user", "bob")).toMatch(
      /200\s+python3\s+bob\s+slurm job 2/,
    );
    const report = await query("report", "processes", "--since", FROM, "--by", "job");
    expect(report).toMatch(/^1\s+1\s+1\s+3\.98/m);
    expect(JSON.parse(await query("processes", G1, "--json")).processes).toHaveLength(1);
    // One row per holder, the grouping named, hours in the column names: it printed field,value
    // lines with the rows as one JSON array.
    const csv = (await query("report", "processes", "--since", FROM, "--by", "user", "--csv")).split("\n");
    expect(csv[0]).toBe("user,sessions,gpus,gpu_h,idle_held_gpu_h");
    expect(csv.slice(1)).toEqual([expect.stringMatching(/^alice,1,1,3\.98\d*,0$/), "bob,1,1,2,0", ""]);
    // The API's CSV has the same columns (it had none: JSON only).
    const api = await fetch(`${c.url}/api/v1/reports/processes?from=${FROM}&by=job&format=csv`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect([api.status, api.headers.get("content-type")]).toEqual([200, "text/csv; charset=utf-8"]);
    expect(api.headers.get("content-disposition")).toMatch(
      /^attachment; filename="gputel-processes-\d{8}T\d{4}Z-/,
    );
    const jobs = (await api.text()).split("\n");
    expect(jobs[0]).toBe("job,sessions,gpus,gpu_h,idle_held_gpu_h");
    expect(jobs.slice(1)).toEqual([expect.stringMatching(/^1,1,1,3\.98\d*,0$/), "2,1,1,2,0", ""]);
  });

  test("gputel query processes --csv: a row per session, units and times in the names, no collector's row id", async () => {
    // Two URLs of one collector: the lists merged, each session once. It printed the API's field
    // names (id, gpuUuid, firstSeenMs, …) and the row id, each collector's own.
    const csv = await query("processes", "--since", FROM, "--host", HOST, "--csv", "--url", c.url);
    const at = (ms: number) => `${new Date(ms).toISOString()},${ms}`;
    /** `who`: user and workload kind, job id; seen from 4 h ago to `lastMs`. */
    const session = (gpu: string, pid: number, who: string, lastMs: number, state: string) =>
      `${HOST},${gpu},,${pid},${at(NOW - 4 * H)},python3,,${who},,,,${at(NOW - 4 * H)},${at(lastMs)},${lastMs - (NOW - 4 * H)},40000,40000,,,${state},`;
    expect(csv).toBe(
      [
        "host,uuid,mig_uuid,pid,start,start_ms,process,uid,user,workload_kind,job_id,pod_uid,container_id,unit,first_seen,first_seen_ms,last_seen,last_seen_ms,for_ms,memory_used_mib,peak_memory_used_mib,sm_pct,mem_bw_pct,state,absent",
        session(G1, 100, "alice,slurm,1", NOW - 60_000, "running"),
        session(G2, 200, "bob,slurm,2", NOW - 2 * H, "ended"),
        "",
      ].join("\n"),
    );
  });

  test("/api/v1/processes answers the CSV gputel query processes --csv prints; a tenant's is scoped as its JSON", async () => {
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const history = `${c.url}/api/v1/processes?from=${encodeURIComponent(FROM)}&host=${HOST}`;
    const cli = await query("processes", "--since", FROM, "--host", HOST, "--csv");
    // It answered JSON only.
    const api = await fetch(`${history}&format=csv`, { headers: auth(TOKEN) });
    expect([api.status, api.headers.get("content-type")]).toEqual([200, "text/csv; charset=utf-8"]);
    expect(api.headers.get("content-disposition")).toMatch(
      /^attachment; filename="gputel-process-sessions-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv"$/,
    );
    expect(await api.text()).toBe(cli);
    const accepted = await fetch(history, { headers: { ...auth(TOKEN), accept: "text/csv" } });
    expect(await accepted.text()).toBe(cli);
    // The current list too.
    const now = await fetch(`${c.url}/api/v1/processes?host=${HOST}&format=csv`, { headers: auth(TOKEN) });
    expect(await now.text()).toBe(await query("processes", "--host", HOST, "--csv"));
    // A tenant's CSV is its JSON's sessions: bob's alone, clipped to its lease.
    const json = await get(`/api/v1/processes?from=${FROM}`, tenantToken);
    const mine = await fetch(`${c.url}/api/v1/processes?from=${encodeURIComponent(FROM)}&format=csv`, {
      headers: auth(tenantToken),
    });
    const text = await mine.text();
    expect(text).toBe(processesCsv(json.body.processes as ProcessRow[]));
    const lines = text.split("\n");
    expect(lines).toHaveLength(3);
    // pid and first_seen_ms: bob's session began 4 h ago, the lease 3 h ago.
    const cells = (lines[1] ?? "").split(",");
    expect([cells[3], cells[15]]).toEqual(["200", String(NOW - 3 * H)]);
  });

  test("/api/v1/gpus/:id/processes answers the CSV gputel query processes GPU --csv prints; a tenant's is its JSON's", async () => {
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const path = (gpu: string) => `${c.url}/api/v1/gpus/${gpu}/processes?from=${encodeURIComponent(FROM)}`;
    const csv = async (gpu: string, token: string) => {
      const byFormat = await fetch(`${path(gpu)}&format=csv`, { headers: auth(token) });
      const byAccept = await fetch(path(gpu), { headers: { ...auth(token), accept: "text/csv" } });
      const text = await byFormat.text();
      expect(await byAccept.text()).toBe(text);
      return { status: byFormat.status, type: byFormat.headers.get("content-type"), text };
    };
    // It answered JSON only.
    const admin = await csv(G1, TOKEN);
    expect([admin.status, admin.type]).toEqual([200, "text/csv; charset=utf-8"]);
    expect(admin.text).toBe(await query("processes", G1, "--since", FROM, "--csv"));
    expect(admin.text.split("\n")[1]).toMatch(new RegExp(`^${HOST},${G1},,100,`));
    // acme's GPU: its piece of bob's session, clipped to the lease, as its JSON.
    const json = await get(`/api/v1/gpus/${G2}/processes?from=${FROM}`, tenantToken);
    const mine = await csv(G2, tenantToken);
    expect(mine.status).toBe(200);
    expect(mine.text).toBe(processesCsv(json.body.processes as ProcessRow[]));
    expect(mine.text.split("\n")[1]?.split(",")[15]).toBe(String(NOW - 3 * H));
    // A GPU acme never leased: the same 404 as in JSON.
    expect((await csv(G1, tenantToken)).status).toBe(404);
  });

  test("gputel query processes --gpu asks for that GPU's holders", async () => {
    let out = "";
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        out += t;
      },
      env: { GPUTEL_API_TOKEN: TOKEN },
      isTTY: false,
    };
    const code = await run(["processes", "--gpu", G1, "--since", FROM, "--json", "--url", c.url], io);
    expect(code, out).toBe(0);
    expect(pids(JSON.parse(out))).toEqual([100]);
  });

  test("says why a process's SM % and memory % are absent, in the API and gputel query processes", async () => {
    const why = "pmon does not report on this GPU";
    writeSet(
      1,
      NOW - 60_000,
      [
        {
          ...proc(G3, 300, "carol", "3"),
          absent: [
            { field: "sm", reason: AbsentReason.ABSENT_REASON_UNSUPPORTED, why },
            { field: "mem", reason: AbsentReason.ABSENT_REASON_UNSUPPORTED, why },
          ],
        },
      ],
      "host-b",
    );
    const answer = await get(`/api/v1/gpus/${G3}/processes`);
    expect(answer.body.processes).toEqual([
      expect.objectContaining({
        pid: 300,
        smPct: null,
        absent: [
          { field: "sm", reason: "unsupported", why },
          { field: "mem", reason: "unsupported", why },
        ],
      }),
    ]);
    const table = await query("processes", G3);
    expect(table).toContain(`SM % absent: pid 300: ${why} (unsupported)`);
    expect(table).toContain(`MEM BW % absent: pid 300: ${why} (unsupported)`);
  });

  test("answers each process's memory % (pmon's mem) beside its SM %, to admins, tenants and gputel query processes", async () => {
    // Two sets a minute apart: the session's shares are the means of both, as SM % always was.
    const dave = (sm: number, mem: number): IProcessRecord => ({
      ...proc(G4, 400, "dave", "4"),
      sm_pct: sm,
      mem_pct: mem,
    });
    writeSet(1, NOW - 2 * 60_000, [dave(10, 4)], "host-c");
    writeSet(2, NOW - 60_000, [dave(30, 8)], "host-c");
    await leaseToAcme("acme-2", G4);
    const shares = { pid: 400, smPct: 20, memPct: 6 };
    expect((await get(`/api/v1/gpus/${G4}/processes`)).body.processes).toEqual([
      expect.objectContaining(shares),
    ]);
    expect((await get(`/api/v1/processes?host=host-c&from=${FROM}`)).body.processes).toEqual([
      expect.objectContaining(shares),
    ]);
    expect((await get(`/api/v1/gpus/${G4}/processes`, tenantToken)).body.processes).toEqual([
      expect.objectContaining(shares),
    ]);
    expect((await get("/api/v1/processes?host=host-c", tenantToken)).body.processes).toEqual([
      expect.objectContaining(shares),
    ]);
    const table = await query("processes", G4);
    expect(table).toMatch(/\bSM %\s+MEM BW %/);
    expect(table).toMatch(/400\s+python3\s+dave\s+slurm job 4\s+40000\s+40000\s+20\s+6\s/);
    expect(JSON.parse(await query("processes", G4, "--json")).processes[0]).toMatchObject(shares);
  });

  test("names the hosts whose agents send no process sets, so an empty list is not read as idle", async () => {
    // host-d reports samples but never a process set; host-e's last set is 20 min old (a session
    // counts as current for 10 min); host-a, -b and -c sent theirs a minute ago.
    const G5 = "GPU-99999999-2222-3333-4444-555555555555";
    const G6 = "GPU-aaaaaaaa-2222-3333-4444-555555555555";
    c.running.store.writeFrames([frameFor("host-d", [G5], NOW - 20 * H)], NOW);
    c.running.store.writeFrames([frameFor("host-e", [G6], NOW - 20 * H)], NOW);
    writeSet(1, NOW - 20 * 60_000, [proc(G6, 600, "erin", "6")], "host-e");
    const silent = async (path: string, token = TOKEN) => (await get(path, token)).body.silentHosts;
    expect(await silent("/api/v1/processes")).toEqual(["host-d", "host-e"]);
    expect(await silent("/api/v1/processes?host=host-d")).toEqual(["host-d"]);
    expect(await silent("/api/v1/processes?host=host-a")).toEqual([]);
    expect(await silent(`/api/v1/gpus/${G6}/processes`)).toEqual(["host-e"]);
    expect(await silent(`/api/v1/gpus/${G1}/processes`)).toEqual([]);
    expect(await silent(`/api/v1/processes?gpu=${G5}`)).toEqual(["host-d"]);
    // A history list speaks for its range, not for now: no such field.
    expect(await silent(`/api/v1/processes?from=${FROM}`)).toBeUndefined();
    // A tenant hears only of the hosts of the GPUs it holds now.
    expect(await silent("/api/v1/processes", tenantToken)).toEqual([]);
    await leaseToAcme("acme-3", G5);
    expect(await silent("/api/v1/processes", tenantToken)).toEqual(["host-d"]);
    // A set that lists nothing still says what runs: nothing.
    writeSet(2, NOW - 60_000, [], "host-e");
    expect(await silent("/api/v1/processes")).toEqual(["host-d"]);
    const table = await query("processes", "--host", "host-d");
    expect(table).toBe(
      "No compute process running on the hosts that report them.\n" +
        "1 host sends no process sets (agent source `processes` off, or its sets stopped), so what runs there is unknown: host-d.\n",
    );
    expect(await query("processes")).toContain(
      "1 host sends no process sets (agent source `processes` off, or its sets stopped), so what runs there is unknown: host-d.\n",
    );
  });

  test("says why a process's user is blank: the /proc files the agent could not read", async () => {
    const G7 = "GPU-bbbbbbbb-2222-3333-4444-555555555555";
    c.running.store.writeFrames([frameFor("host-f", [G7], NOW - 20 * H)], NOW);
    const denied = ["status", "stat", "cgroup"].map((file) => ({
      field: "proc",
      reason: AbsentReason.ABSENT_REASON_ERROR,
      why: `${file}: EACCES`,
    }));
    const { user: _user, workload_kind: _kind, slurm_job_id: _job, ...bare } = proc(G7, 700, "", "");
    // One process on two GPUs: two rows, named once in the line.
    const G8 = "GPU-cccccccc-2222-3333-4444-555555555555";
    c.running.store.writeFrames([frameFor("host-f", [G7, G8], NOW - 20 * H)], NOW);
    writeSet(
      1,
      NOW - 60_000,
      [
        { ...bare, absent: denied },
        { ...bare, gpu_uuid: G8, absent: denied },
      ],
      "host-f",
    );
    const both = await query("processes", "--host", "host-f");
    expect(both.match(/700\s+python3/g)).toHaveLength(2);
    expect(both).toContain("USER absent: pid 700: status: EACCES");
    const table = await query("processes", G7);
    expect(table).toMatch(/700\s+python3\s+40000/);
    expect(table).toContain("USER absent: pid 700: status: EACCES, stat: EACCES, cgroup: EACCES (error)\n");
    // A user the agent read is never explained away.
    expect(await query("processes", G1)).not.toContain("USER absent");
  });

  test("says when the list was cut at its limit: truncated in the JSON, a header beside the CSV", async () => {
    const G9 = "GPU-dddddddd-2222-3333-4444-555555555555";
    const host = "host-g";
    twoHolders(host, G9);
    const list = async (path: string, token = TOKEN) => {
      const r = await get(path, token);
      expect(r.status, path).toBe(200);
      return { pids: (r.body.processes as { pid: number }[]).map((p) => p.pid), truncated: r.body.truncated };
    };
    // It said nothing: `truncated` was absent, cut or not.
    expect(await list(`/api/v1/processes?host=${host}`)).toEqual({ pids: [901, 902], truncated: false });
    // Current holders cut as before: the newest session (902), though 901 holds more memory.
    expect(await list(`/api/v1/processes?host=${host}&limit=1`)).toEqual({ pids: [902], truncated: true });
    expect(await list(`/api/v1/processes?host=${host}&limit=2`)).toEqual({
      pids: [901, 902],
      truncated: false,
    });
    expect((await list(`/api/v1/processes?host=${host}&from=${FROM}&limit=1`)).truncated).toBe(true);
    expect((await list(`/api/v1/processes?host=${host}&from=${FROM}&limit=2`)).truncated).toBe(false);
    expect((await list(`/api/v1/gpus/${G9}/processes?limit=1`)).truncated).toBe(true);
    expect((await list(`/api/v1/processes?gpu=${G9}&limit=2`)).truncated).toBe(false);
    // A tenant's list counts its own sessions.
    await leaseToAcme("acme-g", G9);
    expect(await list(`/api/v1/processes?host=${host}&limit=1`, tenantToken)).toEqual({
      pids: [902],
      truncated: true,
    });
    expect((await list(`/api/v1/processes?host=${host}&limit=2`, tenantToken)).truncated).toBe(false);
    // The CSV's rows are the sessions alone: the cut is said in a header.
    const csv = async (limit: number) =>
      fetch(`${c.url}/api/v1/processes?host=${host}&limit=${limit}&format=csv`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    expect((await csv(1)).headers.get("x-gputel-truncated")).toBe("true");
    expect((await csv(2)).headers.get("x-gputel-truncated")).toBeNull();
  });

  test("gputel query processes cut at --limit: the GPU list's note on stderr in every format, stdout left clean", async () => {
    const host = "host-h";
    twoHolders(host, "GPU-eeeeeeee-2222-3333-4444-555555555555");
    const note = "gputel query: showing 1 (more exist); use --limit N for more\n";
    const env = { GPUTEL_API_TOKEN: TOKEN };
    for (const format of ["table", "csv", "json"]) {
      const args = ["processes", "--host", host, "--format", format, "--url", c.url];
      // It printed nothing on stderr: the list looked whole.
      const cut = await runCaptured(run, [...args, "--limit", "1"], env);
      expect([cut.code, cut.err], format).toEqual([0, note]);
      expect(cut.out, format).not.toContain("more exist");
      if (format === "csv") expect(cut.out.split("\n")).toHaveLength(3);
      if (format === "json") expect(JSON.parse(cut.out)).toMatchObject({ truncated: true });
      const whole = await runCaptured(run, args, env);
      expect([whole.code, whole.err], format).toEqual([0, ""]);
    }
    // Two URLs (merged by the CLI): the same note.
    const merged = await runCaptured(
      run,
      ["processes", "--host", host, "--limit", "1", "--csv", "--url", `${c.url},${c.url}`],
      env,
    );
    expect([merged.code, merged.err]).toEqual([0, note]);
  });
});
