// `gputel lease` and `gputel report` refuse a missing required option themselves: bad usage (64),
// a message naming the option, and no request made (the collector's refusal would exit 65). Their
// help lists the exit statuses docs/leases.md and the README give.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as leaseCli } from "../../cli/lease/cli.js";
import { run as reportCli } from "../../cli/report/cli.js";
import { runCaptured } from "../helpers/cli.js";

const env = { GPUTEL_API_TOKEN: "lease-usage-admin-token-0123456789" };
const DEVICE = "GPU-aaaaaaaa-2222-3333-4444-555555555555";
const START = "2026-11-01T00:00:00Z";

/** Every request the stand-in collector was asked, refused as the collector refuses bad fields. */
const asked: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "bad_request", message: "refused", parameter: "device" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const add = { device: ["--device", DEVICE], tenant: ["--tenant", "acme"], start: ["--start", START] };

describe("a missing required option is bad usage, refused before any request", () => {
  test.each(Object.keys(add) as (keyof typeof add)[])("lease add without --%s", async (missing) => {
    asked.length = 0;
    const given = Object.entries(add).flatMap(([name, args]) => (name === missing ? [] : args));
    const r = await runCaptured(leaseCli, ["add", ...given, "--url", url], env);
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain(`add needs --${missing}`);
    expect(asked).toEqual([]);
  });

  test("lease add without any names each option it needs", async () => {
    asked.length = 0;
    const r = await runCaptured(leaseCli, ["add", "--url", url], env);
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain("add needs --device, --tenant, --start");
    expect(asked).toEqual([]);
  });

  test.each([
    ["--price", "2.40", "--currency"],
    ["--currency", "EUR", "--price"],
  ])("lease add %s %s without %s", async (given, value, needed) => {
    asked.length = 0;
    const r = await runCaptured(
      leaseCli,
      ["add", ...add.device, ...add.tenant, ...add.start, given, value, "--url", url],
      env,
    );
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain(`${given} needs ${needed}`);
    expect(asked).toEqual([]);
  });

  test.each([
    ["lease end", leaseCli, ["end"], "end needs a lease ID"],
    ["lease show", leaseCli, ["show"], "show needs a lease ID"],
    ["lease delete", leaseCli, ["delete"], "delete needs a lease ID"],
    ["lease import", leaseCli, ["import"], "import needs a FILE"],
    ["report statement --tenant", reportCli, ["statement", "--tenant", "acme"], "statement needs --month"],
    ["report statement --all-tenants", reportCli, ["statement", "--all-tenants"], "statement needs --month"],
  ])("%s without what it needs", async (_name, cli, args, message) => {
    asked.length = 0;
    const r = await runCaptured(cli, [...args, "--url", url], env);
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain(message);
    expect(asked).toEqual([]);
  });
});

describe("more operands than a command takes are bad usage, refused before any request", () => {
  test.each([
    ["lease end", leaseCli, ["end", "a", "b"], 'end takes one lease ID (also given: "b")'],
    ["lease list", leaseCli, ["list", "acme"], 'list takes no operand (also given: "acme")'],
    [
      "report statement",
      reportCli,
      ["statement", "--tenant", "acme", "--month", "2026-11", "globex"],
      'statement takes no operand (also given: "globex")',
    ],
    ["report leases", reportCli, ["leases", "acme"], 'leases takes no operand (also given: "acme")'],
  ])("%s", async (_name, cli, args, message) => {
    asked.length = 0;
    const r = await runCaptured(cli, [...args, "--url", url], env);
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain(`${message}; nothing was done`);
    expect(asked).toEqual([]);
  });
});

describe("the help lists the exit statuses the docs give", () => {
  test.each([
    ["lease", leaseCli],
    ["report", reportCli],
  ])("gputel %s --help", async (_name, cli) => {
    const r = await runCaptured(cli, ["--help"], env);
    expect(r.code).toBe(0);
    const statuses = r.out.replace(/\s+/g, " ").match(/Exit status: (.*)/)?.[1] ?? "";
    for (const status of ["0 done", "64 bad usage", "65 ", "66 ", "69 ", "78 "])
      expect(statuses, status).toContain(status);
  });
});
