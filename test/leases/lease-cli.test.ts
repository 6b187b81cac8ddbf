// `gputel lease` and `gputel token` as real processes (built dist/) against a real collector:
// tables and --json, CSV and YAML imports (all or nothing, idempotent, line and field named),
// exit statuses 65 (refused data), 78 (token missing or short of the role), and role tokens
// made on the collector's database while it runs, stored only as digests. A cut lease list's
// note beside --json is checked in-process (cli/lease's run).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as leaseCli } from "../../cli/lease/cli.js";
import { run as tokenCli } from "../../cli/token/cli.js";
import { frameFor, leaseRecord } from "../collector/leases/store-helpers.js";
import { runCaptured, spawnGputel } from "../helpers/cli.js";
import { startTestCollector, type TestCollector } from "../security/collector-helpers.js";

const TOKEN = "lease-cli-admin-token-0123456789";
const G1 = "GPU-aaaaaaaa-2222-3333-4444-555555555555";
const G2 = "GPU-bbbbbbbb-2222-3333-4444-555555555555";
const H = 3_600_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

let c: TestCollector;
let dir: string;
let tokenFile: string;

async function gputel(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const p = spawnGputel(args, { GPUTEL_API_TOKEN: "", NO_COLOR: "1", ...env });
  const code = await p.exited;
  return { code, out: p.output() };
}
/** In-process `gputel token` output: what it wrote to stderr, at a fixed clock. */
function tokenIo() {
  let err = "";
  const io = {
    stdout: () => {},
    stderr: (t: string) => {
      err += t;
    },
    now: () => NOW,
    user: "test",
  };
  return { io, err: () => err };
}
const lease = (args: string[], env?: Record<string, string>) =>
  gputel(["lease", ...args, "--url", c.url, "--token-file", tokenFile], env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gputel-lease-cli-"));
  tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  c = await startTestCollector({ token: TOKEN, overrides: { database: join(dir, "collector.db") } });
  c.running.store.writeFrames([frameFor("host-a", [G1, G2], NOW - 48 * H)], NOW);
});
afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("gputel lease", () => {
  test("add, list, show, end; conflicts and bad fields exit 65 naming the field", async () => {
    const add = await lease([
      "add",
      "--id",
      "acme-1",
      "--device",
      G1,
      "--tenant",
      "acme",
      "--start",
      iso(NOW - 2 * H),
      "--price",
      "2.40",
      "--currency",
      "EUR",
      "--availability",
      "99.5",
      "--label",
      "team=ml",
    ]);
    expect(add.code, add.out).toBe(0);
    expect(add.out).toMatch(/Created lease acme-1/);
    const clash = await lease(["add", "--device", G1, "--tenant", "globex", "--start", iso(NOW - H)]);
    expect(clash.code).toBe(65);
    expect(clash.out).toMatch(/overlaps lease "acme-1".*\(field device\)/);
    const money = await lease([
      "add",
      "--device",
      G2,
      "--tenant",
      "globex",
      "--start",
      iso(NOW),
      "--price=-1",
      "--currency",
      "EUR",
    ]);
    expect([money.code, /field pricePerGpuHour/.test(money.out)]).toEqual([65, true]);
    const unknown = await lease([
      "add",
      "--device",
      "GPU-ffffffff-0000",
      "--tenant",
      "globex",
      "--start",
      iso(NOW),
    ]);
    expect([unknown.code, /field device/.test(unknown.out)]).toEqual([65, true]);
    const list = await lease(["list", "--tenant", "acme"]);
    expect(list.out).toMatch(/ID\s+DEVICE\s+TENANT/);
    expect(list.out).toMatch(/acme-1 .* acme .* active .* 2\.4 EUR\/h .* 99\.5 %/);
    const end = await lease(["end", "acme-1"]);
    expect(end.code, end.out).toBe(0);
    const show = JSON.parse((await lease(["show", "acme-1", "--json"])).out) as {
      endMs: number;
      history: { action: string }[];
    };
    expect(show.endMs).toBeGreaterThanOrEqual(NOW);
    expect(show.history.map((h) => h.action)).toEqual(["create", "end"]);
    expect((await lease(["show", "nope"])).code).toBe(65);
  });

  test("CSV import: all or nothing with line and field; the same file twice changes nothing", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(
      bad,
      `id,device,tenant,start,end,pricePerGpuHour,currency,labels\n` +
        `csv-1,${G2},initech,${iso(NOW - 40 * H)},${iso(NOW - 30 * H)},1.5,USD,"po=77;team=a"\n` +
        `csv-2,${G2},initech,${iso(NOW - 30 * H)},${iso(NOW - 20 * H)},1.5,USX,\n`,
    );
    const r = await lease(["import", bad]);
    expect(r.code).toBe(65);
    // The field once: it read "line 3, field currency: … (field currency)".
    expect(r.out).toMatch(/line 3, field currency: "USX" is not an ISO 4217 currency code\n/);
    expect((await lease(["show", "csv-1"])).code).toBe(65);
    const good = join(dir, "good.csv");
    writeFileSync(good, readFileSync(bad, "utf8").replace("USX", "USD"));
    expect((await lease(["import", good])).out).toMatch(/2 created, 0 updated, 0 unchanged/);
    expect((await lease(["import", good])).out).toMatch(/0 created, 0 updated, 2 unchanged/);
    const malformed = join(dir, "broken.csv");
    writeFileSync(malformed, `id,device,tenant,start\nx,${G2},acme\n`);
    const m = await lease(["import", malformed]);
    expect([m.code, /broken\.csv:2: 3 fields where the header has 4/.test(m.out)]).toEqual([65, true]);
  });

  test("YAML import names the line of the bad lease", async () => {
    const file = join(dir, "leases.yaml");
    writeFileSync(
      file,
      `leases:\n  - id: y-1\n    device: ${G2}\n    tenant: umbrella\n    start: ${iso(NOW - 20 * H)}\n    end: ${iso(NOW - 19 * H)}\n` +
        `  - id: y-2\n    device: ${G2}\n    tenant: umbrella\n    start: ${iso(NOW - 19 * H)}\n    end: ${iso(NOW - 21 * H)}\n`,
    );
    const r = await lease(["import", file]);
    expect(r.code).toBe(65);
    expect(r.out).toMatch(/line 7, field end: must be after start/);
    writeFileSync(file, "leases: [ {id: y-1, device: \n");
    const broken = await lease(["import", file]);
    expect([broken.code, /leases\.yaml:\d+: not YAML/.test(broken.out)]).toEqual([65, true]);
  });

  test("a __proto__ label key is refused naming where (--label, CSV, YAML), and nothing is written", async () => {
    // A plain object drops it without a word (it sets the prototype); the collector's JSON parser
    // refuses a body holding it without naming the field: the lease was kept without the label.
    const start = iso(NOW + 10 * H);
    const add = await lease(
      ["add", "--id", "proto-1", "--device", G2, "--tenant", "acme"].concat([
        "--start",
        start,
        "--label",
        "team=ml",
        "--label",
        "__proto__=x",
      ]),
    );
    expect([add.code, add.out]).toEqual([
      65,
      expect.stringMatching(/field labels: "__proto__" is not a label key/),
    ]);
    const csv = join(dir, "proto.csv");
    writeFileSync(csv, `id,device,tenant,start,labels\nproto-2,${G2},acme,${start},team=ml;__proto__=x\n`);
    const fromCsv = await lease(["import", csv]);
    expect([fromCsv.code, fromCsv.out]).toEqual([
      65,
      expect.stringMatching(/proto\.csv:2: field labels: "__proto__" is not a label key/),
    ]);
    const yaml = join(dir, "proto.yaml");
    writeFileSync(
      yaml,
      `- id: proto-3\n  device: ${G2}\n  tenant: acme\n  start: ${start}\n  labels: { team: ml, __proto__: x }\n`,
    );
    const fromYaml = await lease(["import", yaml]);
    expect([fromYaml.code, fromYaml.out]).toEqual([
      65,
      expect.stringMatching(/proto\.yaml:1: field labels: "__proto__" is not a label key/),
    ]);
    for (const id of ["proto-1", "proto-2", "proto-3"]) expect((await lease(["show", id])).code, id).toBe(65);
  });

  test("extra operands are bad usage (64) and nothing is done: not the first alone", async () => {
    const file = (name: string, hours: number) => {
      const path = join(dir, `${name}.csv`);
      const window = `${iso(NOW + hours * H)},${iso(NOW + (hours + 1) * H)}`;
      writeFileSync(path, `id,device,tenant,start,end\n${name},${G1},acme,${window}\n`);
      return path;
    };
    const [a, b] = [file("ops-a", 30), file("ops-b", 31)];
    const both = await lease(["import", a, b]);
    expect([both.code, both.out]).toEqual([
      64,
      expect.stringContaining(`import takes one FILE (also given: "${b}"); nothing was done`),
    ]);
    for (const id of ["ops-a", "ops-b"]) expect((await lease(["show", id])).code, id).toBe(65);
    for (const path of [a, b]) expect((await lease(["import", path])).code).toBe(0);
    const del = await lease(["delete", "ops-a", "ops-b"]);
    expect([del.code, del.out]).toEqual([
      64,
      expect.stringContaining('delete takes one lease ID (also given: "ops-b"); nothing was done'),
    ]);
    for (const id of ["ops-a", "ops-b"]) expect((await lease(["show", id])).code, id).toBe(0);
  });

  test("import: a bad or missing --format is bad usage (64) naming --format", async () => {
    const csv = join(dir, "fmt.csv");
    writeFileSync(
      csv,
      `id,device,tenant,start,end\nfmt-1,${G1},acme,${iso(NOW + 40 * H)},${iso(NOW + 41 * H)}\n`,
    );
    // The name tells CSV; the message blamed the name, and a bad option value exited 65 (refused data).
    const xml = await lease(["import", csv, "--format", "xml"]);
    expect([xml.code, xml.out]).toEqual([
      64,
      expect.stringContaining('--format must be csv or yaml, not "xml"'),
    ]);
    const txt = join(dir, "fmt.txt");
    writeFileSync(txt, readFileSync(csv));
    const unnamed = await lease(["import", txt]);
    expect([unnamed.code, unnamed.out]).toEqual([
      64,
      expect.stringContaining(
        "fmt.txt: cannot tell CSV from YAML by the name: give --format csv or --format yaml",
      ),
    ]);
    expect((await lease(["show", "fmt-1"])).code).toBe(65);
    expect((await lease(["import", txt, "--format", "csv"])).out).toMatch(/1 created/);
  });

  test("YAML: a number where a field is text is read as written, as the same CSV cell is", async () => {
    // `id: 1001` was refused as "is required", `contract: 7781` and `po: 12.50` as not strings.
    const file = join(dir, "numeric.yaml");
    writeFileSync(
      file,
      `- id: 1001\n  device: ${G1}\n  tenant: acme\n  start: ${iso(NOW + 50 * H)}\n  end: ${iso(NOW + 51 * H)}\n` +
        "  contract: 007781\n  pricePerGpuHour: 2.40\n  currency: EUR\n  labels: { po: 12.50, urgent: true }\n",
    );
    const r = await lease(["import", file]);
    expect([r.code, r.out]).toEqual([0, expect.stringContaining("1 created")]);
    const shown = JSON.parse((await lease(["show", "1001", "--json"])).out) as Record<string, unknown>;
    expect(shown).toMatchObject({
      id: "1001",
      contract: "007781",
      pricePerGpuHour: 2.4,
      labels: { po: "12.50", urgent: "true" },
    });
  });

  test("no token or a viewer token: exit 78", async () => {
    const none = await gputel(["lease", "list", "--url", c.url]);
    expect([none.code, /unauthorized/.test(none.out)]).toEqual([78, true]);
  });
});

describe("gputel token", () => {
  test("add prints a token once, stored hashed; list has no secrets; revoke stops it", async () => {
    const db = join(dir, "collector.db");
    const add = await gputel(["token", "add", "--database", db, "--role", "tenant:acme", "--json"]);
    expect(add.code, add.out).toBe(0);
    const made = JSON.parse(add.out) as { id: string; token: string; role: string };
    expect(made.token).toMatch(/^gputel_[A-Za-z0-9_-]{43}$/);
    const viewer = JSON.parse(
      (await gputel(["token", "add", "--database", db, "--role", "viewer", "--json"])).out,
    ) as { id: string; token: string };
    const list = await gputel(["token", "list", "--database", db]);
    expect(list.out).toContain(made.id);
    expect(list.out).toContain("tenant:acme");
    expect(list.out).not.toContain(made.token);
    for (const f of ["collector.db", "collector.db-wal"]) {
      let bytes = "";
      try {
        bytes = readFileSync(join(dir, f)).toString("latin1");
      } catch {}
      expect(bytes.includes(made.token.slice(7))).toBe(false);
    }
    const tenantList = await gputel(["lease", "list", "--url", c.url], { GPUTEL_API_TOKEN: made.token });
    expect([tenantList.code, /needs the viewer role/.test(tenantList.out)]).toEqual([78, true]);
    const viewerAdd = await gputel(
      ["lease", "add", "--url", c.url, "--device", G1, "--tenant", "x", "--start", iso(NOW + H)],
      { GPUTEL_API_TOKEN: viewer.token },
    );
    expect(viewerAdd.code).toBe(78);
    expect((await gputel(["lease", "list", "--url", c.url], { GPUTEL_API_TOKEN: viewer.token })).code).toBe(
      0,
    );
    const two = await gputel(["token", "revoke", "--database", db, viewer.id, made.id]);
    expect([two.code, two.out]).toEqual([
      64,
      expect.stringContaining(`revoke takes one token ID (also given: "${made.id}"); nothing was done`),
    ]);
    expect((await gputel(["lease", "list", "--url", c.url], { GPUTEL_API_TOKEN: viewer.token })).code).toBe(
      0,
    );
    expect((await gputel(["token", "revoke", "--database", db, made.id])).code).toBe(0);
    expect((await gputel(["token", "revoke", "--database", db, made.id])).code).toBe(65);
    const after = await fetch(`${c.url}/api/v1/gpus`, { headers: { authorization: `Bearer ${made.token}` } });
    expect(after.status).toBe(401);
    const badRole = await gputel(["token", "add", "--database", db, "--role", "root"]);
    expect(badRole.code).toBe(65);
    const noDb = await gputel(["token", "list", "--database", join(dir, "missing.db")]);
    expect(noDb.code).toBe(78);
  });

  test("add without --role is bad usage (64, as lease's missing options): no token is made", async () => {
    const db = join(dir, "collector.db");
    const before = (await gputel(["token", "list", "--database", db, "--json"])).out;
    const { io, err } = tokenIo();
    // It exited 65, the status of a refused role, as if an empty role had been given.
    expect(await tokenCli(["add", "--database", db, "--note", "ci"], io)).toBe(64);
    expect(err()).toMatch(/^gputel token: add needs --role \(admin, viewer or tenant:NAME\)\n\nUsage:/);
    // Checked before the configuration is read: its absence is not what is reported.
    const second = tokenIo();
    expect(await tokenCli(["add", "--config", join(dir, "none.yaml")], second.io)).toBe(64);
    expect(second.err()).toContain("add needs --role");
    expect((await gputel(["token", "list", "--database", db, "--json"])).out).toBe(before);
  });

  test("revoke without an ID is bad usage (64, a missing operand), before the configuration is read", async () => {
    const { io, err } = tokenIo();
    // It exited 65, the status of an unknown token, as if an empty ID had been looked up.
    expect(await tokenCli(["revoke", "--database", join(dir, "collector.db")], io)).toBe(64);
    expect(err()).toMatch(/^gputel token: revoke needs a token ID \(see gputel token list\)\n\nUsage:/);
    const second = tokenIo();
    expect(await tokenCli(["revoke", "--config", join(dir, "none.yaml")], second.io)).toBe(64);
    expect(second.err()).toContain("revoke needs a token ID");
  });

  test("add warns when no lease names the tenant exactly, naming one that differs by case; the token is made", async () => {
    // `--role tenant:ACME` where leases name `acme` was made silently: the token saw nothing.
    c.running.store.leases.insert(
      leaseRecord({ id: "case-1", gpu: G2, tenant: "acme", startMs: NOW + 80 * H, endMs: NOW + 81 * H }),
      NOW,
    );
    const db = join(dir, "collector.db");
    const add = async (role: string) => {
      let out = "";
      let err = "";
      const code = await tokenCli(["add", "--database", db, "--role", role, "--json"], {
        stdout: (t) => {
          out += t;
        },
        stderr: (t) => {
          err += t;
        },
        now: () => NOW,
        user: "test",
      });
      return { code, err, made: code === 0 ? (JSON.parse(out) as { id: string }) : undefined };
    };
    const upper = await add("tenant:ACME");
    expect([upper.code, upper.err]).toEqual([
      0,
      'gputel token: no lease names tenant "ACME" yet (did you mean "acme"?); the token sees nothing until one does\n',
    ]);
    const future = await add("tenant:initrode");
    expect([future.code, future.err]).toEqual([
      0,
      'gputel token: no lease names tenant "initrode" yet; the token sees nothing until one does\n',
    ]);
    expect(await add("tenant:acme")).toMatchObject({ code: 0, err: "" });
    expect(await add("viewer")).toMatchObject({ code: 0, err: "" });
    const listed = (await gputel(["token", "list", "--database", db])).out;
    for (const t of [upper, future]) expect(listed).toContain(t.made?.id);
  });
});

describe("gputel lease list of a cut list", () => {
  test("--json says on stderr what the table says under it; stdout stays the JSON", async () => {
    for (const [id, from, to] of [
      ["hooli-1", NOW - 47 * H, NOW - 46.5 * H],
      ["hooli-2", NOW - 46.5 * H, NOW - 46 * H],
    ] as const) {
      const r = await fetch(`${c.url}/api/v1/leases`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ id, device: G2, tenant: "hooli", start: iso(from), end: iso(to) }),
      });
      expect(r.status).toBe(201);
    }
    const list = (...args: string[]) =>
      runCaptured(leaseCli, [
        "list",
        "--tenant",
        "hooli",
        ...args,
        "--url",
        c.url,
        "--token-file",
        tokenFile,
      ]);
    const table = await list("--limit", "1");
    expect(table.out).toContain("(truncated: use --limit)");
    const json = await list("--limit", "1", "--json");
    expect(json.code, json.err).toBe(0);
    expect(json.err).toBe("gputel lease: (truncated: use --limit)\n");
    expect((JSON.parse(json.out) as { leases: unknown[]; truncated: boolean }).truncated).toBe(true);
    const whole = await list("--json");
    expect([whole.err, (JSON.parse(whole.out) as { leases: unknown[] }).leases.length]).toEqual(["", 2]);
  });
});
