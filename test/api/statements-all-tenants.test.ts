// Every tenant's statement in one request (/api/v1/reports/statement?all_tenants=true, `gputel
// report statement --all-tenants`) on a real collector and its SQLite file: GPUs re-leased back to
// back at odd milliseconds and with a gap for sale between tenants, a GPU lost for a while and a
// host offline. Each statement of the list must be the one the tenant's own request gives, its
// totals the exact sum of its lines; a tenant token gets its own statement alone.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as report } from "../../cli/report/cli.js";
import { newToken } from "../../collector/api/tokens.js";
import type { NewFlag } from "../../collector/flags/types.js";
import type { Lease } from "../../collector/leases/model.js";
import type { Statements } from "../../collector/reports/all-statements.js";
import type { Statement } from "../../collector/reports/lease-report.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const TOKEN = "statements-admin-token-0123456789";
const G1 = "GPU-b1b1b1b1-2222-3333-4444-555555555555";
const G2 = "GPU-b2b2b2b2-2222-3333-4444-555555555555";
const G3 = "GPU-b3b3b3b3-2222-3333-4444-555555555555";
const MIN = 60_000;
// Whole minutes, 100 minutes back: one month holds the whole test but at the stroke of a month.
const START = Math.floor((Date.now() - 100 * MIN) / MIN) * MIN;
const MONTH = new Date(START).toISOString().slice(0, 7);

const PRICE = { priceMicros: 1_900_007, availabilityMilli: 99_500 };

let c: TestCollector;
let acmeToken = "";

const get = (path: string, token = TOKEN, accept = "application/json") => c.get(path, token, accept);

function lease(id: string, gpu: string, tenant: string, startMs: number, endMs: number): Lease {
  const terms = {
    contract: `c-${tenant}`,
    currency: tenant === "initech" ? "USD" : "EUR",
    labels: { team: tenant },
  };
  return { id, device: gpu, gpu, tenant, startMs, endMs, ...terms, ...PRICE, source: "api" };
}

// Ended leases and closed flags only: the two requests then read the same past (now differs).
const LEASES = [
  lease("acme-1", G1, "acme", START, START + 7 * MIN + 17_321),
  lease("globex-1", G1, "globex", START + 7 * MIN + 17_321, START + 13 * MIN + 4_009), // back to back
  lease("acme-2", G1, "acme", START + 16 * MIN + 59_999, START + 24 * MIN), // after a gap for sale
  lease("globex-2", G2, "globex", START + 31_000, START + 20 * MIN + 1),
  lease("initech-1", G3, "initech", START + 2 * MIN, START + 11 * MIN + 30_000),
  lease("initech-2", G2, "initech", START + 22 * MIN + 5, START + 25 * MIN),
];

function flag(kind: "lost" | "offline", host: string, gpu: string | null, from: number, to: number) {
  const f: NewFlag & { endMs: number } = {
    kind,
    severity: "critical",
    host,
    site: "",
    gpuUuid: gpu,
    gpuIndex: gpu === null ? null : 0,
    labels: {},
    values: {},
    startMs: from,
    endMs: to,
    reason: kind,
  };
  return f;
}

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  // 26 minutes at one sample a second: G1 and G2 on host-a, G3 on host-b.
  const frames = Array.from({ length: 26 * 60 }, (_, i) => [
    frameFor("host-a", [G1, G2], START + i * 1000, i + 1),
    frameFor("host-b", [G3], START + i * 1000 + 250, i + 1),
  ]).flat();
  for (let i = 0; i < frames.length; i += 200)
    c.running.store.writeFrames(frames.slice(i, i + 200), Date.now());
  for (const l of LEASES) c.running.store.leases.insert(l, START);
  const flags = c.running.store.flagStore();
  for (const f of [
    flag("lost", "host-a", G1, START + 5 * MIN + 123, START + 9 * MIN), // across acme-1's end
    flag("offline", "host-b", null, START + 3 * MIN, START + 4 * MIN + 500),
    flag("lost", "host-a", G2, START + 21 * MIN, START + 23 * MIN), // in the gap and into initech-2
  ])
    flags.close({ ...flags.insert(f, f.startMs), endMs: f.endMs });
  const t = newToken();
  c.running.store.tokens.insert(t.id, "tenant:acme", t.digest, "", Date.now());
  acmeToken = t.token;
});
afterAll(async () => {
  await c?.close();
});

/** A statement without its request time (the two requests differ in it, nothing else may). */
function past(s: Statement): Omit<Statement, "nowMs"> {
  const { nowMs: _, ...rest } = s;
  return rest;
}

describe("every tenant's statement in one request", () => {
  test("each statement is the tenant's own request's, its totals the sum of its lines", async () => {
    const r = await get(`/api/v1/reports/statement?month=${MONTH}&all_tenants=true`);
    expect(r.status).toBe(200);
    const all = JSON.parse(r.text) as Statements;
    expect(all.kind).toBe("statements");
    expect(all.statements.map((s) => s.tenant)).toEqual(["acme", "globex", "initech"]);
    expect(all.statements.flatMap((s) => s.lines.map((l) => l.lease)).sort()).toEqual(
      LEASES.map((l) => l.id).sort(),
    );
    for (const s of all.statements) {
      const own = JSON.parse((await get(`/api/v1/reports/statement?tenant=${s.tenant}&month=${MONTH}`)).text);
      expect(past(s)).toEqual(past(own as Statement));
      const sum = (k: "leasedMs" | "busyMs" | "idleMs" | "downMs" | "energyCwms" | "flags") =>
        s.lines.reduce((n, l) => n + l[k], 0);
      for (const k of ["leasedMs", "busyMs", "idleMs", "downMs", "energyCwms", "flags"] as const)
        expect(s.total[k]).toBe(sum(k));
      for (const [cur, money] of Object.entries(s.total.costMicros)) {
        const lines = s.lines.filter((l) => l.currency === cur);
        expect(money.cost).toBe(lines.reduce((n, l) => n + l.costMicros, 0));
        expect(money.paidIdle).toBe(lines.reduce((n, l) => n + l.paidIdleCostMicros, 0));
      }
    }
    // The data is real: usage billed, the lost GPU and the offline host counted as down.
    const acme = all.statements[0] as Statement;
    expect(acme.total.busyMs).toBeGreaterThan(0);
    expect(acme.lines.find((l) => l.lease === "acme-1")?.downMs).toBe(7 * MIN + 17_321 - (5 * MIN + 123));
    const initech = all.statements[2] as Statement;
    expect(initech.lines.find((l) => l.lease === "initech-1")?.downMs).toBe(MIN + 500);
    expect(initech.total.costMicros.USD?.cost).toBeGreaterThan(0);
  });

  test("CSV: one block per tenant, its total row naming it", async () => {
    const r = await get(`/api/v1/reports/statement?month=${MONTH}&all_tenants=true&format=csv`);
    const rows = r.text.trim().split("\n");
    expect(rows[0]).toMatch(/^lease,tenant,gpu,/);
    const totals = rows.filter((x) => x.startsWith("total,")).map((x) => x.split(",")[1]);
    expect(totals).toEqual(["acme", "globex", "initech"]);
    expect(rows.filter((x) => x.startsWith("acme-")).length).toBe(2);
  });

  test("a tenant token gets its own statement alone; a tenant beside all_tenants is refused", async () => {
    const mine = JSON.parse(
      (await get(`/api/v1/reports/statement?month=${MONTH}&all_tenants=true`, acmeToken)).text,
    ) as Statements;
    expect(mine.statements.map((s) => s.tenant)).toEqual(["acme"]);
    const both = await get(`/api/v1/reports/statement?month=${MONTH}&all_tenants=true&tenant=acme`);
    expect(both.status).toBe(400);
    expect(JSON.parse(both.text)).toMatchObject({ parameter: "tenant" });
  });

  test("gputel report statement --all-tenants: a table and CSV of every tenant", async () => {
    const cli = async (args: string[]) => {
      let out = "";
      const code = await report([...args, "--url", c.url], {
        stdout: (t) => {
          out += t;
        },
        stderr: () => {},
        env: { GPUTEL_API_TOKEN: TOKEN },
        isTTY: false,
      });
      return { code, out };
    };
    const t = await cli(["statement", "--all-tenants", "--month", MONTH]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^lease\s+tenant/);
    for (const id of ["acme-2", "globex-1", "initech-2"]) expect(t.out).toContain(id);
    const csv = await cli(["statement", "--all-tenants", "--month", MONTH, "--format", "csv"]);
    expect(csv.out.split("\n").filter((x) => x.startsWith("total,")).length).toBe(3); // one currency each
    expect((await cli(["statement", "--all-tenants", "--tenant", "acme", "--month", MONTH])).code).toBe(64);
  });
});
