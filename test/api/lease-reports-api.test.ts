// /api/v1/reports/leases and /api/v1/reports/statement on a real collector: a GPU re-leased from
// acme to globex mid-way is billed to each for its own minutes (not to its current labels); the
// statement's total is the sum of its lines; CSV with units in the column names; a tenant token
// sees its own statement and gets 404 for another tenant's.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as report } from "../../cli/report/cli.js";
import { newToken } from "../../collector/api/tokens.js";
import type { Lease } from "../../collector/leases/model.js";
import { LEASE_REPORT_COLUMNS, STATEMENT_COLUMNS, statementRows } from "../../collector/reports/lease-csv.js";
import type { LeaseReport, Statement } from "../../collector/reports/lease-report.js";
import { csv as writeCsv } from "../../shared/csv.js";
import { frameFor } from "../collector/leases/store-helpers.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const TOKEN = "lease-reports-admin-token-0123456789";
const G1 = "GPU-aaaaaaaa-2222-3333-4444-555555555555";
const MIN = 60_000;
// Whole minutes, 100 minutes back: one month holds the whole test but at the stroke of a month.
const START = Math.floor((Date.now() - 100 * MIN) / MIN) * MIN;
const MONTH = new Date(START).toISOString().slice(0, 7);

let c: TestCollector;
let acmeToken = "";

const get = (path: string, token = TOKEN, accept = "application/json") => c.get(path, token, accept);

function lease(id: string, tenant: string, startMs: number, endMs: number | null): Lease {
  return {
    id,
    device: G1,
    gpu: G1,
    tenant,
    startMs,
    endMs,
    contract: null,
    priceMicros: 2_000_000,
    currency: "EUR",
    availabilityMilli: 99_000,
    labels: {},
    source: "api",
  };
}

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  // 20 minutes at one sample a second, utilization 50 % (busy); current labels name globex.
  const frames = Array.from({ length: 1200 }, (_, i) =>
    frameFor("host-a", [G1], START + i * 1000, i + 1, { customer: "globex" }),
  );
  for (let i = 0; i < frames.length; i += 100)
    c.running.store.writeFrames(frames.slice(i, i + 100), Date.now());
  c.running.store.leases.insert(lease("acme-1", "acme", START, START + 10 * MIN), START);
  c.running.store.leases.insert(lease("globex-1", "globex", START + 10 * MIN, START + 20 * MIN), START);
  const t = newToken();
  c.running.store.tokens.insert(t.id, "tenant:acme", t.digest, "", Date.now());
  acmeToken = t.token;
});
afterAll(async () => {
  await c?.close();
});

describe("lease reports over the API", () => {
  test("the statement bills each tenant its own minutes; totals are the sum of the lines", async () => {
    const r = await get(`/api/v1/reports/statement?tenant=acme&month=${MONTH}`);
    expect(r.status).toBe(200);
    const s = JSON.parse(r.text) as Statement;
    expect(s.lines.map((l) => l.lease)).toEqual(["acme-1"]);
    const line = s.lines[0];
    expect(line?.leasedMs).toBe(10 * MIN);
    expect(line?.busyMs).toBe(10 * MIN); // the 600 samples of its minutes, each covering 1 s
    expect(line?.costMicros).toBe(333_333); // 10 minutes at 2 EUR an hour, in micro-EUR, rounded once
    expect(s.total.busyMs).toBe(line?.busyMs);
    expect(s.total.costMicros).toEqual({ EUR: { cost: line?.costMicros, paidIdle: 0 } });
    const g = JSON.parse(
      (await get(`/api/v1/reports/statement?tenant=globex&month=${MONTH}`)).text,
    ) as Statement;
    expect(g.lines.map((l) => [l.lease, l.busyMs])).toEqual([["globex-1", 10 * MIN]]);
  });

  test("the leases report groups by tenant", async () => {
    const r = await get(`/api/v1/reports/leases?from=${START}&to=${START + 30 * MIN}&by=tenant`);
    const rep = JSON.parse(r.text) as LeaseReport;
    expect(rep.groups.map((x) => [x.key, x.leasedMs, x.busyMs])).toEqual([
      ["acme", 10 * MIN, 10 * MIN],
      ["globex", 10 * MIN, 10 * MIN],
    ]);
    expect(rep.total.leasedMs).toBe(20 * MIN);
  });

  test("CSV by Accept or format, with units in the column names", async () => {
    const r = await get(`/api/v1/reports/statement?tenant=acme&month=${MONTH}`, TOKEN, "text/csv");
    expect(r.type).toContain("text/csv");
    const [header, first, total] = r.text.trim().split("\n");
    // Written by the one CSV writer (shared/csv.ts), lines ending in \n as every other report's and
    // the CLI's lists' do: it had a writer of its own, ending lines in \r\n.
    const json = JSON.parse((await get(`/api/v1/reports/statement?tenant=acme&month=${MONTH}`)).text);
    expect(r.text).toBe(writeCsv([...STATEMENT_COLUMNS], statementRows(json as Statement)));
    expect(header).toContain("leased_gpu_h,busy_gpu_h");
    expect(header).toContain("energy_kwh");
    expect(first?.startsWith("acme-1,acme,")).toBe(true);
    expect(total?.startsWith("total,")).toBe(true);
    const f = await get(`/api/v1/reports/leases?from=${START}&to=${START + 30 * MIN}&format=csv`);
    expect(f.text.split("\n")[0]).toBe(LEASE_REPORT_COLUMNS.join(","));
    expect(f.text).not.toContain("\r");
  });

  test("the lease CSVs' attachments are named as every report's: gputel-KIND-FROM-TO.csv (reportFileName)", async () => {
    const fileOf = async (path: string) => {
      const r = await fetch(`${c.url}${path}&format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.status).toBe(200);
      return /filename="([^"]+)"/.exec(r.headers.get("content-disposition") ?? "")?.[1];
    };
    const stamp = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, "")}Z`;
    const month = Date.parse(`${MONTH}-01T00:00:00Z`);
    const next = new Date(month);
    next.setUTCMonth(next.getUTCMonth() + 1);
    const monthSpan = `${stamp(month)}-${stamp(next.getTime())}`;
    // They were leases-by-tenant.csv, statement-acme-2026-12.csv and statements-2026-12.csv.
    expect(await fileOf(`/api/v1/reports/leases?from=${START}&to=${START + 30 * MIN}&by=tenant`)).toBe(
      `gputel-leases-by-tenant-${stamp(START)}-${stamp(START + 30 * MIN)}.csv`,
    );
    expect(await fileOf(`/api/v1/reports/statement?tenant=acme&month=${MONTH}`)).toBe(
      `gputel-statement-acme-${monthSpan}.csv`,
    );
    expect(await fileOf(`/api/v1/reports/statement?month=${MONTH}&all_tenants=true`)).toBe(
      `gputel-statements-${monthSpan}.csv`,
    );
  });

  test("a tenant token reads its own statement, 404 for another tenant's; bad input names the field", async () => {
    expect((await get(`/api/v1/reports/statement?month=${MONTH}`, acmeToken)).status).toBe(200);
    const other = await get(`/api/v1/reports/statement?tenant=globex&month=${MONTH}`, acmeToken);
    expect(other.status).toBe(404);
    const mine = JSON.parse(
      (await get(`/api/v1/reports/leases?from=${START}&to=${START + 30 * MIN}`, acmeToken)).text,
    ) as LeaseReport;
    expect(mine.groups.map((x) => x.key)).toEqual(["acme"]);
    const bad = await get("/api/v1/reports/statement?tenant=acme&month=2026-13");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ parameter: "month" });
  });

  test("gputel report statement: table, CSV and exit 65 for a tenant the token may not see", async () => {
    const cli = async (args: string[], token = TOKEN) => {
      let out = "";
      let err = "";
      const code = await report([...args, "--url", c.url], {
        stdout: (t) => {
          out += t;
        },
        stderr: (t) => {
          err += t;
        },
        env: { GPUTEL_API_TOKEN: token },
        isTTY: false,
      });
      return { code, out, err };
    };
    const t = await cli(["statement", "--tenant", "acme", "--month", MONTH]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^lease\s+tenant/);
    expect(t.out).toContain("acme-1");
    const csv = await cli(["statement", "--tenant", "acme", "--month", MONTH, "--format", "csv"]);
    expect(csv.out.split("\n")[0]).toContain("busy_gpu_h");
    const denied = await cli(["statement", "--tenant", "globex", "--month", MONTH], acmeToken);
    expect(denied.code).toBe(65);
    expect((await cli(["statement", "--tenant", "acme"])).code).toBe(64);
    // Neither --tenant nor --all-tenants: a tenant's token gets its own statement; the fleet's
    // token is told to name one, as bad usage.
    const own = await cli(["statement", "--month", MONTH], acmeToken);
    expect(own.code, own.err).toBe(0);
    expect(own.out).toContain("acme-1");
    expect(own.out).not.toContain("globex-1");
    const fleet = await cli(["statement", "--month", MONTH]);
    expect(fleet.code).toBe(64);
    expect(fleet.err).toContain("statement needs --tenant T or --all-tenants");
  });

  test("an admin asking the statement of a tenant no lease names gets 404 naming the month's tenants; the CLI exits 65", async () => {
    // A typo (acmee) printed an empty statement with exit 0: nothing told the operator.
    const typo = await get(`/api/v1/reports/statement?tenant=acmee&month=${MONTH}`);
    expect([typo.status, JSON.parse(typo.text)]).toEqual([
      404,
      {
        error: "not_found",
        parameter: "tenant",
        message: `no lease of tenant "acmee" (tenants with leases in ${MONTH}: acme, globex)`,
      },
    ]);
    // A known tenant with no lease in that month is a valid empty statement.
    const before = await get("/api/v1/reports/statement?tenant=acme&month=2000-01");
    expect(before.status).toBe(200);
    expect((JSON.parse(before.text) as Statement).lines).toEqual([]);
    const none = await get("/api/v1/reports/statement?tenant=acmee&month=2000-01");
    expect([none.status, (JSON.parse(none.text) as { message: string }).message]).toEqual([
      404,
      'no lease of tenant "acmee" (tenants with leases in 2000-01: none)',
    ]);
    // A tenant token learns no other tenant's name: the same 404 as for any other tenant.
    const tenantAsks = await get(`/api/v1/reports/statement?tenant=acmee&month=${MONTH}`, acmeToken);
    expect(tenantAsks.status).toBe(404);
    expect(tenantAsks.text).not.toContain("globex");
    let err = "";
    const code = await report(["statement", "--tenant", "acmee", "--month", MONTH, "--url", c.url], {
      stdout: () => {},
      stderr: (t) => {
        err += t;
      },
      env: { GPUTEL_API_TOKEN: TOKEN },
      isTTY: false,
    });
    expect([code, err]).toEqual([
      65,
      expect.stringContaining(`no lease of tenant "acmee" (tenants with leases in ${MONTH}: acme, globex)`),
    ]);
  });
});
