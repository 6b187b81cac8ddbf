// A proxy in front of the collector answering its own HTML error page, or JSON that is not the
// API's (`null`): every API-talking command says so in one line naming the URL, with its
// documented exit status, never a multi-line page dump nor a stack trace.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as exportCli } from "../../cli/export/cli.js";
import { run as leaseCli } from "../../cli/lease/cli.js";
import { run as queryCli } from "../../cli/query/cli.js";
import { run as reportCli } from "../../cli/report/cli.js";
import { runCaptured } from "../helpers/cli.js";

const PAGE =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
const ANSWERS: Record<string, { status: number; type: string; body: string }> = {
  page: { status: 502, type: "text/html", body: PAGE },
  "null-error": { status: 500, type: "application/json", body: "null" },
  "null-answer": { status: 200, type: "application/json", body: "null" },
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = ANSWERS[(req.url ?? "").split("/")[1] ?? ""] ?? {
      status: 404,
      type: "text/plain",
      body: "",
    };
    res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function exportRun(args: string[]) {
  let err = "";
  const code = await exportCli(args, { stdout: new PassThrough(), stderr: (t) => (err += t), env: {} });
  return { code, err };
}

function oneLineNaming(err: string, url: string): void {
  expect(err.endsWith("\n")).toBe(true);
  expect(err.trimEnd().split("\n")).toHaveLength(1);
  expect(err).toContain(url);
  expect(err).not.toMatch(/TypeError|\bat .*\.js:\d+/);
}

describe("an answer that is not the API's", () => {
  for (const kind of Object.keys(ANSWERS)) {
    test(`${kind}: gputel query (exit 69, the collector failing, as gputel lease and report)`, async () => {
      const url = `${base}/${kind}`;
      for (const args of [["summary"], ["gpus"], ["flags"], ["report", "utilization"], ["events"]]) {
        const r = await runCaptured(queryCli, [...args, "--url", url]);
        expect(r.code, args.join(" ")).toBe(69);
        oneLineNaming(r.err, url);
      }
    });

    test(`${kind}: gputel lease and gputel report (exit 69, the collector failing)`, async () => {
      const url = `${base}/${kind}`;
      for (const r of [
        await runCaptured(leaseCli, ["list", "--url", url]),
        await runCaptured(reportCli, ["leases", "--url", url]),
      ]) {
        expect(r.code).toBe(69);
        oneLineNaming(r.err, url);
      }
    });
  }

  test("page: gputel export (exit 69, the collector failing, as the others)", async () => {
    const url = `${base}/page`;
    const r = await exportRun(["--since", "1h", "--format", "csv", "--url", url]);
    expect(r.code).toBe(69);
    oneLineNaming(r.err, url);
    expect(r.err).toContain("502 Bad Gateway");
  });
});
