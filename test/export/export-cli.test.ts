// `gputel export` as a user meets it: usage errors (exit 64), the token from GPUTEL_API_TOKEN,
// an API error shown with its parameter, a collector that is not there, and a connection cut
// in the middle: no output file (nor its .partial) left behind. Each failure exits as the other
// API commands' (docs/errors.md): 64 usage, 65 refused, 69 unreachable or failing, 78 token.
import { existsSync } from "node:fs";
import { chmod, lstat, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/export/cli.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";
import { freePort } from "../helpers/net.js";

const TOKEN = "export-cli-token-0123456789";
const TENANT_TOKEN = "export-cli-tenant-token-0123456789";
let api: LiveApi;
let dir: string;

beforeAll(async () => {
  api = await startLiveApi({
    token: TOKEN,
    tokens: (t) => (t === TENANT_TOKEN ? { role: "tenant", tenant: "acme", actor: "t" } : undefined),
  });
  dir = await mkdtemp(join(tmpdir(), "gputel-export-cli-"));
}, 60_000);
afterAll(async () => {
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d) => {
    out += String(d);
  });
  let err = "";
  const code = await run(args, { stdout, stderr: (t) => (err += t), env });
  return { code, out, err };
}

describe("gputel export", () => {
  it("refuses missing options and a URL carrying a password", async () => {
    expect(await cli(["--format", "csv"])).toMatchObject({
      code: 64,
      err: expect.stringContaining("--since"),
    });
    expect(await cli(["--since", "1h"])).toMatchObject({
      code: 64,
      err: expect.stringContaining("--format"),
    });
    const url = await cli(["--since", "1h", "--format", "csv", "--url", "http://u:secret@127.0.0.1:1"]);
    expect(url.code).toBe(64);
    expect(url.err).not.toContain("secret");
  });

  it("streams to stdout with the token from GPUTEL_API_TOKEN, and says when the token is missing", async () => {
    const args = ["--url", api.url, "--since", "20m", "--format", "csv", "--gpu", `${api.fleet.hosts[0]}:1`];
    const denied = await cli(args);
    expect(denied).toMatchObject({
      code: 78,
      err: expect.stringContaining("--token-file or GPUTEL_API_TOKEN"),
    });
    const ok = await cli(args, { GPUTEL_API_TOKEN: TOKEN });
    expect(ok.code).toBe(0);
    const rows = ok.out.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^time,timestamp_ms,host,gpu,uuid,model,site,/);
    expect(rows.length).toBeGreaterThan(100);
  });

  it("shows the API's message and parameter", async () => {
    const r = await cli(["--url", api.url, "--since", "1h", "--format", "csv", "--tier", "7m"], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect(r.code).toBe(65);
    expect(r.err).toContain("(parameter tier)");
  });

  it("a GPU the collector does not know is a refusal (65)", async () => {
    const r = await cli(["--url", api.url, "--since", "1h", "--format", "csv", "--gpu", "nohost:9"], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect(r.code, r.err).toBe(65);
    expect(r.err).toContain('no GPU "nohost:9"');
  });

  it("a token without the role (a tenant's: export is fleet-wide) is 78", async () => {
    const r = await cli(["--url", api.url, "--since", "1h", "--format", "csv"], {
      GPUTEL_API_TOKEN: TENANT_TOKEN,
    });
    expect(r.code, r.err).toBe(78);
    expect(r.err).toContain("needs the viewer role");
  });

  it("a --format the collector does not write is bad usage, before any request", async () => {
    // Nothing listens on the port: a request sent before the check would end 69 (unreachable).
    const port = await freePort();
    const r = await cli(["--url", `http://127.0.0.1:${port}`, "--since", "1h", "--format", "parquet"]);
    expect(r.code, r.err).toBe(64);
    expect(r.err).toContain("--format must be one of openmetrics, vm-jsonl, csv");
  });

  it.each([
    [500, JSON.stringify({ error: "internal", message: "disk I/O error" })],
    [204, ""],
  ])("a collector answering %i (failing, or not the API's answer) is 69", async (status, body) => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const r = await cli(["--url", `http://127.0.0.1:${port}`, "--since", "1h", "--format", "csv"]);
      expect(r.code, r.err).toBe(69);
    } finally {
      server.close();
    }
  });

  it("says when the output file cannot be written (exit 73)", async () => {
    const output = join(dir, "missing-dir", "x.csv");
    const r = await cli(["--url", api.url, "--since", "5m", "--format", "csv", "-o", output], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect(r).toMatchObject({ code: 73, err: expect.stringContaining("cannot write --output") });
  });

  it("writes its .partial file afresh: a link or file planted there is replaced, never written through", async () => {
    // In a shared directory (/tmp) another user may plant OUTPUT.partial before the export runs.
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "keep me\n");
    const linked = join(dir, "linked.csv");
    await symlink(victim, `${linked}.partial`);
    const planted = join(dir, "planted.csv");
    await writeFile(`${planted}.partial`, "", { mode: 0o644 });
    await chmod(`${planted}.partial`, 0o644);
    for (const output of [linked, planted]) {
      const r = await cli(["--url", api.url, "--since", "5m", "--format", "csv", "-o", output], {
        GPUTEL_API_TOKEN: TOKEN,
      });
      expect(r.code, r.err).toBe(0);
      const written = await lstat(output);
      expect(written.isFile()).toBe(true);
      expect(written.mode & 0o777).toBe(0o600);
      expect(await readFile(output, "utf8")).toMatch(/^time,timestamp_ms,/);
    }
    expect(await readFile(victim, "utf8")).toBe("keep me\n");
  });

  it("says when no collector answers", async () => {
    const port = await freePort();
    const r = await cli(["--url", `http://127.0.0.1:${port}`, "--since", "1h", "--format", "csv"]);
    expect(r).toMatchObject({ code: 69, err: expect.stringContaining("connection refused") });
  });

  it("leaves no file when the connection is cut before the end", async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.write("time,timestamp_ms\n");
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const output = join(dir, "cut.csv");
      const r = await cli([
        "--url",
        `http://127.0.0.1:${port}`,
        "--since",
        "1h",
        "--format",
        "csv",
        "-o",
        output,
      ]);
      expect(r.code).toBe(69);
      expect(r.err).toContain("cut off");
      expect(existsSync(output)).toBe(false);
      expect(existsSync(`${output}.partial`)).toBe(false);
    } finally {
      server.close();
    }
  });
});
