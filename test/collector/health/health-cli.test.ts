// `gputel query events | health GPU | report health` and `gputel flag ack` against a live API
// server (real HTTP on loopback) over a real store and flag engine.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run as flagCli } from "../../../cli/flag/cli.js";
import { run as queryCli } from "../../../cli/query/cli.js";
import { StoreHealthBackend } from "../../../collector/api/health-backend.js";
import { createApiServer } from "../../../collector/api/server.js";
import { StoreBackend } from "../../../collector/api/store-backend.js";
import { silentLogger } from "../../../shared/logger.js";
import { freePort } from "../../helpers/net.js";
import { leaseRecord } from "../leases/store-helpers.js";
import { KERNEL_BOOT, xidEvent } from "./events.js";
import { type FlagHarness, flagHarness, T0, UUID } from "./flag-harness.js";

const TOKEN = "health-cli-token-1";
const NOW = T0 + 3600_000;
const harnesses: FlagHarness[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const h of harnesses.splice(0)) h.cleanup();
});

async function live(): Promise<{ url: string; h: FlagHarness }> {
  const harness = flagHarness();
  harnesses.push(harness);
  harness.frame(T0, {});
  harness.xid([xidEvent(1, 13, { time_ms: T0 + 1000 }), xidEvent(2, 79, { time_ms: T0 + 2000 })]);
  return { url: await serve(harness), h: harness };
}

/** GPU UUID leased to acme from T0 on, as lease-7. */
function leaseToAcme(h: FlagHarness): void {
  h.store.leases.insert(
    leaseRecord({ id: "lease-7", gpu: UUID, tenant: "acme", startMs: T0, endMs: null }),
    T0,
  );
}

/** The API over a harness's store and flags, on a free loopback port; stopped after the test. */
async function serve(harness: FlagHarness): Promise<string> {
  const now = () => NOW;
  const server = createApiServer({
    backend: new StoreBackend({
      store: harness.store,
      flags: harness.engine,
      health: new StoreHealthBackend({ store: harness.store, flags: harness.engine, now }),
      now,
    }),
    listen: { host: "127.0.0.1", port: 0 },
    token: TOKEN,
    logger: silentLogger(),
  });
  const { port } = await server.start();
  stops.push(() => server.stop());
  return `http://127.0.0.1:${port}`;
}

function io() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
      env: { GPUTEL_API_TOKEN: TOKEN },
      isTTY: false,
    },
  };
}

const range = ["--since", String(T0), "--until", String(NOW)];

describe("gputel query (health)", () => {
  it("lists events as a table and as JSON, filtered by code", async () => {
    const { url } = await live();
    const t = io();
    expect(await queryCli(["events", "--url", url, ...range], t.io)).toBe(0);
    expect(t.out.stdout).toMatch(/Xid 79\s+ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS\s+reboot\s+hardware/);
    expect(t.out.stdout).toMatch(/Xid 13\s+\S+.*restart-app\s+workload python3 \(4242\)/);
    const j = io();
    expect(await queryCli(["events", "--url", url, "--json", "--code", "13", ...range], j.io)).toBe(0);
    expect(JSON.parse(j.out.stdout).events.map((e: { code: number }) => e.code)).toEqual([13]);
  });

  it("events of several collectors (--url a,b): every collector asked, each event once", async () => {
    const { url } = await live();
    // A second collector of the share group: the same two kernel-log events under its own row
    // ids, and one the first does not hold (it came while the first was down).
    const other = flagHarness();
    harnesses.push(other);
    other.frame(T0, {});
    other.xid([
      xidEvent(1, 13, { time_ms: T0 + 1000 }),
      xidEvent(2, 79, { time_ms: T0 + 2000 }),
      xidEvent(3, 48, { time_ms: T0 + 3000 }),
    ]);
    const url2 = await serve(other);
    const j = io();
    expect(await queryCli(["events", "--url", `${url},${url2}`, "--json", ...range], j.io)).toBe(0);
    const codes = (a: { events: { code: number }[] }) => a.events.map((e) => e.code);
    // Only the first collector was asked: [79, 13].
    expect(codes(JSON.parse(j.out.stdout))).toEqual([48, 79, 13]);
    const cut = io();
    expect(
      await queryCli(["events", "--url", url, "--url", url2, "--json", "--limit", "2", ...range], cut.io),
    ).toBe(0);
    const page = JSON.parse(cut.out.stdout) as { events: { code: number }[]; next: string | null };
    // Until 2026-12-08 `${T0 + 2001}:0`, up to the last time shown (its events shown again).
    const next = `${T0 + 2000}:node-1:${KERNEL_BOOT}:2`;
    expect([codes(page), page.next]).toEqual([[48, 79], next]);
    const rest = io();
    const after = ["--before", next, "--json", ...range];
    expect(await queryCli(["events", "--url", `${url},${url2}`, ...after], rest.io)).toBe(0);
    expect(codes(JSON.parse(rest.out.stdout))).toEqual([13]);
    const t = io();
    expect(await queryCli(["events", "--url", `${url},${url2}`, "--limit", "2", ...range], t.io)).toBe(0);
    expect(t.out.stdout).toContain(`(more: --before ${next})`);
    // A row id names one collector's row: refused with several collectors.
    const row = io();
    expect(
      await queryCli(["events", "--url", `${url},${url2}`, "--before", `${T0}:7`, ...range], row.io),
    ).toBe(64);
    expect(row.out.stderr).toContain("names one collector's row");
    // CSV and JSON say so too, on stderr: their stdout stays the CSV or the JSON alone.
    for (const format of ["csv", "json"]) {
      const f = io();
      const args = ["events", "--url", `${url},${url2}`, "--format", format, "--limit", "2", ...range];
      expect(await queryCli(args, f.io)).toBe(0);
      expect(f.out.stderr, format).toBe(`gputel query: (more: --before ${next})\n`);
      expect(f.out.stdout, format).not.toContain("more:");
    }
    const whole = io();
    expect(await queryCli(["events", "--url", `${url},${url2}`, "--csv", ...range], whole.io)).toBe(0);
    expect(whole.out.stderr).toBe("");
  });

  it("events --before: the page after a page's cursor, as the hint says", async () => {
    const { url } = await live();
    const first = io();
    expect(await queryCli(["events", "--url", url, "--limit", "1", ...range], first.io)).toBe(0);
    const hint = /\(more: --before (\S+)\)/.exec(first.out.stdout)?.[1];
    expect(hint).toBeDefined();
    const rest = io();
    expect(
      await queryCli(["events", "--url", url, "--json", "--before", hint ?? "", ...range], rest.io),
    ).toBe(0);
    const firstCodes = first.out.stdout.match(/Xid \d+/g);
    const restCodes = (JSON.parse(rest.out.stdout) as { events: { code: number }[] }).events.map(
      (e) => `Xid ${e.code}`,
    );
    expect([...(firstCodes ?? []), ...restCodes]).toEqual(["Xid 79", "Xid 13"]);
    const bad = io();
    expect(await queryCli(["events", "--url", url, "--before", "yesterday", ...range], bad.io)).toBe(64);
  });

  it("report health with several --url merges their parts: events both hold count once", async () => {
    const { url } = await live();
    // The same collector twice: every event and episode on both, as in a share group.
    const url2 = await serve(harnesses[0] as FlagHarness);
    const one = io();
    expect(await queryCli(["report", "health", "--url", url, "--json", ...range], one.io)).toBe(0);
    const both = io();
    expect(await queryCli(["report", "health", "--url", `${url},${url2}`, "--json", ...range], both.io)).toBe(
      0,
    );
    const report = JSON.parse(both.out.stdout) as { xid: { total: number } };
    expect(report.xid.total).toBe(2);
    expect(report).toEqual(JSON.parse(one.out.stdout));
  });

  it("shows a GPU's timeline and the fleet report; refuses a missing GPU", async () => {
    const { url } = await live();
    const t = io();
    expect(await queryCli(["health", "node-1:0", "--url", url, ...range], t.io)).toBe(0);
    expect(t.out.stdout).toContain(`GPU ${UUID} (node-1:0)`);
    expect(t.out.stdout).toContain("reset-required opened (critical)");
    const r = io();
    expect(await queryCli(["report", "health", "--url", url, ...range], r.io)).toBe(0);
    expect(r.out.stdout).toContain("2 Xid events");
    expect(r.out.stdout).toMatch(/79\s+ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS\s+reboot\s+hardware\s+1/);
    const bad = io();
    expect(await queryCli(["health", "--url", url], bad.io)).toBe(64);
  });
  it("report health gives each tenant's downtime from the leases in force", async () => {
    const { url, h } = await live();
    leaseToAcme(h);
    const r = io();
    expect(await queryCli(["report", "health", "--url", url, ...range], r.io)).toBe(0);
    // reset-required from the Xid 79 at T0 + 2 s to now (T0 + 1 h), all under acme's lease.
    expect(r.out.stdout).toMatch(/TENANT\s+HOURS DOWN\s+GPUS\s+LEASES/);
    expect(r.out.stdout).toMatch(/acme\s+0\.999\s+1\s+lease-7/);
    expect(r.out.stdout).toMatch(/\(no lease\)\s+0\b/);
  });
});

describe("gputel query (health) --format csv: one row per record, units in the column names", () => {
  it("report health: a row per Xid code, model, host, tenant and RMA candidate, then the total", async () => {
    const { url, h } = await live();
    leaseToAcme(h);
    // Off the bus a second time: an RMA candidate. Rows in the report's order (most Xids first).
    h.xid([xidEvent(3, 79, { time_ms: T0 + 3000 })]);
    const r = io();
    expect(await queryCli(["report", "health", "--url", url, "--csv", ...range], r.io)).toBe(0);
    // It printed field,value lines whose values were JSON arrays (xid.byCode, …).
    expect(r.out.stdout).toBe(
      [
        "section,code,mnemonic,action,fault,model,host,tenant,uuid,xids,hardware_xids,hardware_down_gpu_h,gpus,leases,last_hardware_xid,reasons",
        "xid_code,79,ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS,reboot,hardware,,,,,2,,,,,,",
        "xid_code,13,ROBUST_CHANNEL_GR_EXCEPTION / | ROBUST_CHANNEL_GR_ERROR_SW_NOTIFY,restart-app,workload,,,,,1,,,,,,",
        "model,,,,,unknown,,,,3,2,,,,,",
        "host,,,,,,node-1,,,3,2,0.999,,,,",
        "tenant,,,,,,,acme,,,,0.999,1,lease-7,,",
        "unleased,,,,,,,,,,,0,,,,",
        `rma_candidate,,,,,unknown,node-1,,${UUID},,2,,,,${new Date(T0 + 3000).toISOString()},fell off the bus 2 times (Xid 79)`,
        "total,,,,,,,,,3,,0.999,1,,,",
        "",
      ].join("\n"),
    );
    // The API's CSV is the same (it had none: JSON only), as `format=csv` or `Accept: text/csv`.
    const path = `${url}/api/v1/reports/health?from=${T0}&to=${NOW}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const api = await fetch(`${path}&format=csv`, { headers: auth });
    expect(api.status).toBe(200);
    expect(api.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(api.headers.get("content-disposition")).toBe(
      'attachment; filename="gputel-health-20261123T1200Z-20261123T1300Z.csv"',
    );
    expect(await api.text()).toBe(r.out.stdout);
    const accepted = await fetch(path, { headers: { ...auth, accept: "text/csv" } });
    expect(await accepted.text()).toBe(r.out.stdout);
  });

  it("events: a row per event, newest first, time as RFC 3339 and ms, no collector's row id", async () => {
    const { url } = await live();
    // A second collector of the share group holds the same events under other row ids.
    const url2 = await serve(harnesses[0] as FlagHarness);
    const t = io();
    expect(await queryCli(["events", "--url", `${url},${url2}`, "--csv", ...range], t.io)).toBe(0);
    /** `what`: mnemonic, description, action and fault, as written. */
    const row = (seq: number, code: number, what: string) =>
      `${new Date(T0 + seq * 1000).toISOString()},${T0 + seq * 1000},xid,node-1,0,${UUID},0000:01:00,${code},${what},4242,python3,kmsg,${KERNEL_BOOT},${seq},"NVRM: Xid (PCI:0000:01:00): ${code}, pid=4242, name=python3, Ch 00000008"`;
    // It printed the API's field names (id, timeMs, pciBusId, …): the row id is each collector's own.
    expect(t.out.stdout).toBe(
      [
        "time,timestamp_ms,kind,host,index,uuid,pci_bus_id,code,mnemonic,description,action,fault,pid,process,source,kernel_boot_id,kernel_seq,text",
        row(2, 79, "ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS,GPU has fallen off the bus,reboot,hardware"),
        row(
          1,
          13,
          "ROBUST_CHANNEL_GR_EXCEPTION / | ROBUST_CHANNEL_GR_ERROR_SW_NOTIFY,Graphics Engine Exception,restart-app,workload",
        ),
        "",
      ].join("\n"),
    );
  });

  it("events: the API's CSV is the CLI's, byte for byte, as format=csv or Accept: text/csv", async () => {
    const { url } = await live();
    const t = io();
    expect(await queryCli(["events", "--url", url, "--csv", "--limit", "1", ...range], t.io)).toBe(0);
    expect(t.out.stdout.split("\n")).toHaveLength(3);
    const path = `${url}/api/v1/events?from=${T0}&to=${NOW}&limit=1`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    // It answered JSON only.
    const api = await fetch(`${path}&format=csv`, { headers: auth });
    expect(api.status).toBe(200);
    expect(api.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(api.headers.get("content-disposition")).toBe(
      'attachment; filename="gputel-events-20261123T1200Z-20261123T1300Z.csv"',
    );
    expect(await api.text()).toBe(t.out.stdout);
    // The older page's cursor, the JSON's `next`, in a header.
    const json = (await (await fetch(path, { headers: auth })).json()) as { next: string | null };
    expect(json.next).not.toBeNull();
    expect(api.headers.get("x-gputel-next")).toBe(json.next);
    const accepted = await fetch(path, { headers: { ...auth, accept: "text/csv" } });
    expect(await accepted.text()).toBe(t.out.stdout);
  });

  it("health GPU: a row per event, flag episode, acknowledgement and down stretch, oldest first", async () => {
    const { url } = await live();
    const t = io();
    expect(await queryCli(["health", "node-1:0", "--url", url, "--format", "csv", ...range], t.io)).toBe(0);
    const lines = t.out.stdout.split("\n");
    expect(lines[0]).toBe(
      "time,entry,host,uuid,code,mnemonic,action,fault,pid,process,flag_id,flag_kind,severity,end,for_ms,text",
    );
    // It printed field,value lines whose values were JSON arrays (events, flags, downtime).
    expect(lines.map((l) => l.split(",").slice(0, 2).join(","))).toEqual([
      "time,entry",
      `${new Date(T0 + 1000).toISOString()},xid`,
      `${new Date(T0 + 1000).toISOString()},flag`,
      `${new Date(T0 + 2000).toISOString()},xid`,
      `${new Date(T0 + 2000).toISOString()},flag`,
      `${new Date(T0 + 2000).toISOString()},flag`,
      `${new Date(T0 + 2000).toISOString()},downtime`,
      "",
    ]);
    expect(lines[3]).toBe(
      `${new Date(T0 + 2000).toISOString()},xid,node-1,${UUID},79,ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS,reboot,hardware,4242,python3,,,,,,"NVRM: Xid (PCI:0000:01:00): 79, pid=4242, name=python3, Ch 00000008"`,
    );
    // Still open: its time so far, to when the timeline was made.
    expect(lines).toContain(
      `${new Date(T0 + 2000).toISOString()},flag,node-1,${UUID},,,,,,,3,reset-required,critical,,3598000,GPU reset required (a reset-class Xid): Xid 79 on 0000:01:00 asks for: reboot`,
    );
    expect(lines[6]).toBe(
      `${new Date(T0 + 2000).toISOString()},downtime,node-1,${UUID},,,,,,,,reset-required,,${new Date(NOW).toISOString()},3598000,`,
    );
  });
});

describe("gputel flag ack", () => {
  it("closes reset-required with a note, needs the token, and refuses bad input", async () => {
    const { url, h } = await live();
    const id = String(h.open("reset-required")?.id);
    const noToken = io();
    const tokenFile = join(mkdtempSync(join(tmpdir(), "gputel-ack-")), "token");
    writeFileSync(tokenFile, "wrong\n");
    expect(
      await flagCli(["ack", id, "--note", "x", "--url", url, "--token-file", tokenFile], noToken.io),
    ).toBe(78);
    expect(noToken.out.stderr).toContain("unauthorized");
    const t = io();
    expect(await flagCli(["ack", id, "--note", "GPU replaced (RMA 1234)", "--url", url], t.io)).toBe(0);
    expect(t.out.stdout).toContain(`Flag ${id} (reset-required) acknowledged and closed.`);
    expect(h.open("reset-required")).toBeUndefined();
    expect(await flagCli(["ack", id, "--url", url], io().io)).toBe(64);
    expect(await flagCli(["ack", "abc", "--note", "n", "--url", url], io().io)).toBe(64);
    const missing = io();
    expect(await flagCli(["ack", "424242", "--note", "n", "--url", url], missing.io)).toBe(65);
    expect(missing.out.stderr).toContain("no flag 424242");
    // Statuses as gputel lease and report: 78 token, 65 refused, 69 the collector unreachable.
    const down = io();
    const nobody = `http://127.0.0.1:${await freePort()}`;
    expect(await flagCli(["ack", id, "--note", "n", "--url", nobody], down.io)).toBe(69);
    expect(down.out.stderr).toContain(`cannot reach the collector at ${nobody}`);
  });

  it("a flag closed before the acknowledgement is said to have closed then, not to close now", async () => {
    const { url, h } = await live();
    const id = h.open("reset-required")?.id ?? 0;
    h.engine.acknowledge(id, "GPU reset", NOW - 60_000);
    const r = io();
    expect(await flagCli(["ack", String(id), "--note", "checked again", "--url", url], r.io)).toBe(0);
    // It said "acknowledged and closed", as if this acknowledgement had closed it.
    expect(r.out.stdout).toBe(
      `Flag ${id} (reset-required) acknowledged; it had closed at ${new Date(NOW - 60_000).toISOString()}.\n`,
    );
  });

  it("two flag IDs are bad usage and neither is acknowledged: not the first alone", async () => {
    const { url, h } = await live();
    const xid = String(h.open("xid")?.id);
    const reset = String(h.open("reset-required")?.id);
    const r = io();
    expect(await flagCli(["ack", xid, reset, "--note", "GPU reset", "--url", url], r.io)).toBe(64);
    expect(r.out.stderr).toContain(`ack takes one flag ID (also given: "${reset}"); nothing was done`);
    expect([h.open("xid")?.id, h.open("reset-required")?.id].map(String)).toEqual([xid, reset]);
  });
});
