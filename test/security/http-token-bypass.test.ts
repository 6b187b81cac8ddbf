// Issue 13 item 1: the bearer token must not be bypassed by spelling a path differently. The
// router decodes and matches; access must be decided on what it matched, for every route,
// against the real collector's HTTP server. A collector with peers must not relay such a request.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PRIVATE_PATHS, startTestCollector, type TestCollector } from "./collector-helpers.js";
import { closeRawAgent, rawGet } from "./raw-http.js";
import { spellingsOf } from "./spellings.js";

const TOKEN = "bypass-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector({ token: TOKEN });
});
afterAll(async () => {
  await collector?.close();
  closeRawAgent();
});

describe.each(PRIVATE_PATHS)("%s", (path) => {
  test("canonical: 401 without the token, answered with it", async () => {
    expect((await rawGet(collector.http, path)).status).toBe(401);
    expect((await rawGet(collector.http, path, AUTH)).status).not.toBe(401);
  });

  test.each(spellingsOf(path))("%s: 401 without the token (GET and HEAD)", async (spelling) => {
    const get = await rawGet(collector.http, spelling);
    expect({ spelling, status: get.status }).toEqual({ spelling, status: 401 });
    expect(get.body).toContain("unauthorized");
    const head = await rawGet(collector.http, spelling, {}, "HEAD");
    expect({ spelling, status: head.status }).toEqual({ spelling, status: 401 });
  });
});

test("a single percent-encoded character reaches the same route, so the token decides there", async () => {
  const encoded = "/%61pi/v1/hosts";
  expect((await rawGet(collector.http, encoded)).status).toBe(401);
  const withToken = await rawGet(collector.http, encoded, AUTH);
  expect(withToken.status).toBe(200);
  expect(JSON.parse(withToken.body)).toHaveProperty("hosts");
});

describe("through a collector with http.peers", () => {
  let peer: TestCollector;
  let front: TestCollector;
  let proxy: Server;
  let relayed: string[] = [];

  beforeAll(async () => {
    peer = await startTestCollector({ token: TOKEN });
    // Counts what reaches the peer: the front collector asks it through this proxy.
    proxy = createServer((req, res) => {
      relayed.push(req.url ?? "");
      const upstream = request(
        { ...peer.http, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    front = await startTestCollector({ token: TOKEN, overrides: { "http.peers": [proxyUrl] } });
  });
  afterAll(async () => {
    await front?.close();
    await new Promise((resolve) => proxy?.close(resolve));
    await peer?.close();
  });

  test.each(["/%61pi/v1/summary", "/a%70i/v1/gpus", "/api/v1/%66lags", "/api/v1/reports/%65nergy"])(
    "%s without the token: 401, and nothing is relayed to the peer",
    async (spelling) => {
      relayed = [];
      const answer = await rawGet(front.http, spelling);
      expect(answer.status).toBe(401);
      expect(relayed).toEqual([]);
    },
  );

  test("with the token the same request is relayed (the proxy does see fan-out)", async () => {
    relayed = [];
    const answer = await rawGet(front.http, "/%61pi/v1/summary", AUTH);
    expect(answer.status).toBe(200);
    expect(relayed.length).toBeGreaterThan(0);
  });
});
