// The statement of a tenant no lease names answers 404 `tenant` (a typo is the operator's error,
// not an empty statement) with http.peers too: leases are each collector's own records, so the
// tenant is unknown only when no collector's lease names it, and the 404 names the month's tenants
// of every collector. Before, with peers the check was skipped and a typo got an empty statement.
// A peer that does not answer may hold the tenant's leases: then the statement stands, empty,
// naming the peer missing.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leaseRecord } from "../collector/leases/store-helpers.js";
import { deadPort, openParts, type ServedCollector, serveParts, stopAll } from "./fanout-helpers.js";

const TOKEN = "fanout-statement-tenant-token-0123456789";
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const MONTH = "2026-11";
const NOW = T0 + 10 * 24 * 3_600_000;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-tenant-"));
const started: ServedCollector[] = [];

/** A collector holding `leases` ([id, tenant, start]), asking `peers`. */
async function collector(name: string, leases: [string, string, number][], peers: string[]) {
  const parts = openParts(join(dir, `${name}.db`), NOW);
  for (const [id, tenant, startMs] of leases)
    parts.store.leases.insert(leaseRecord({ id, gpu: `GPU-${id}`, tenant, startMs, endMs: null }), T0);
  const c = await serveParts(parts, { nowMs: NOW, token: TOKEN, peers, leases: true });
  started.push(c);
  return c;
}

async function statement(c: ServedCollector, tenant: string, month = MONTH) {
  const r = await fetch(`${c.url}/api/v1/reports/statement?tenant=${tenant}&month=${month}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

let first: ServedCollector; // acme's lease, asks second
let second: ServedCollector; // globex's lease, and initech's from December on

describe("the statement of a tenant no lease names, with peers", () => {
  beforeAll(async () => {
    second = await collector(
      "second",
      [
        ["globex-1", "globex", T0],
        ["initech-1", "initech", Date.UTC(2026, 11, 1)],
      ],
      [],
    );
    first = await collector("first", [["acme-1", "acme", T0]], [second.url]);
  });

  afterAll(() => stopAll(started, dir));

  it("answers 404 tenant naming every collector's tenants of the month when none names it", async () => {
    expect(await statement(first, "acmee")).toEqual({
      status: 404,
      body: {
        error: "not_found",
        parameter: "tenant",
        message: `no lease of tenant "acmee" (tenants with leases in ${MONTH}: acme, globex)`,
      },
    });
  });

  it("gives a tenant only a peer names its statement: its lines that month, or empty", async () => {
    const globex = await statement(first, "globex");
    expect(globex.status).toBe(200);
    expect((globex.body.lines as { lease: string }[]).map((l) => l.lease)).toEqual(["globex-1"]);
    // initech's lease (on the peer) begins in December: November's statement is empty, not 404.
    const initech = await statement(first, "initech");
    expect([initech.status, initech.body.lines, initech.body.peers]).toEqual([
      200,
      [],
      { asked: 1, missing: [], errors: [] },
    ]);
  });

  it("answers the empty statement, naming the missing peer, when a peer that may name it is down", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const partial = await collector("partial", [["acme-1", "acme", T0]], [second.url, dead]);
    const s = await statement(partial, "acmee");
    expect([s.status, s.body.lines, (s.body.peers as { missing: string[] }).missing]).toEqual([
      200,
      [],
      [dead],
    ]);
  });
});
