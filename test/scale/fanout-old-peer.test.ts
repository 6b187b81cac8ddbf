// A peer from before a fan-out route was added (`fanout/open-flags` 2026-12-07, `fanout/summary-gpus`
// 2026-12-08) answers it with its 404 for an unknown route. The merged summary must still answer
// from the others and name that peer in `peers.missing`, with a reason that says what to do.
// The old peer is a real collector behind a loopback proxy that answers those routes as one
// without them does (collector/api/server.ts, setNotFoundHandler, unchanged since 2026-11-23).
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import { run } from "../../cli/query/cli.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { runCaptured } from "../helpers/cli.js";
import {
  feedFrames,
  getJson,
  openParts,
  type ServedCollector,
  serveParts,
  stopAll,
} from "./fanout-helpers.js";

const TOKEN = "fanout-old-peer-token-0123456789";
const fleet = new SynthFleet({ hosts: 2, gpusPerHost: 2, intervalMs: 10_000, seed: 3 });
const FRAMES = 30;
const nowMs = fleet.startMs + FRAMES * 10_000 + 5_000;
const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-old-peer-"));
const started: ServedCollector[] = [];
/** The routes a collector from before 2026-12-07 lacks. */
const NEWER = ["/api/v1/fanout/open-flags", "/api/v1/fanout/summary-gpus"];

/** `target` as an old collector: every request passed on, but NEWER's routes unknown. */
async function oldCollector(target: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (NEWER.includes(path)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not_found", message: `no route ${req.method} ${path}` }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ["authorization", "x-gputel-fanout", "accept"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers[name] = v;
    }
    fetch(`${target}${req.url}`, { headers })
      .then(async (r) => {
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await r.arrayBuffer()));
      })
      .catch(() => {
        res.writeHead(502);
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let front: ServedCollector;
let old: { server: Server; url: string };

beforeAll(async () => {
  const frames = [...fleet.frames(0, FRAMES)] as ValidFrame[];
  const oldParts = openParts(join(dir, "old.db"), nowMs);
  feedFrames(oldParts, frames, 100);
  const behind = await serveParts(oldParts, { nowMs, token: TOKEN, peers: [] });
  started.push(behind);
  old = await oldCollector(behind.url);
  const frontParts = openParts(join(dir, "front.db"), nowMs);
  feedFrames(frontParts, frames, 100);
  front = await serveParts(frontParts, { nowMs, token: TOKEN, peers: [old.url] });
  started.push(front);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => old.server.close(() => resolve()));
  await stopAll(started, dir);
});

type Peers = { asked: number; missing: string[]; errors: { peer: string; error: string }[] };

describe("a peer from before a fan-out route", () => {
  it("is named missing from the merged summary, saying it lacks the route and needs an upgrade", async () => {
    const s = await getJson<{ gpus: { total: number }; peers: Peers }>(front, "/api/v1/summary", TOKEN);
    expect(s.gpus.total).toBe(4); // this collector's own answer still comes
    expect(s.peers.missing).toEqual([old.url]);
    const [reason] = s.peers.errors;
    expect(reason?.peer).toBe(old.url);
    expect(reason?.error).toMatch(
      /^no route GET \/api\/v1\/fanout\/(summary-gpus|open-flags) there: a gputel collector older than this one \(upgrade it\)$/,
    );
  });

  it("fails gputel query summary --url a,b as a collector to upgrade (69), not a refused request", async () => {
    const r = await runCaptured(run, ["summary", "--url", `${front.url},${old.url}`, "--json"], {
      GPUTEL_API_TOKEN: TOKEN,
    });
    expect(r.code).toBe(69);
    expect(r.err).toContain(
      `${old.url}: no route GET /api/v1/fanout/summary-gpus there: a gputel collector older than this one (upgrade it)`,
    );
  });
});
