// Issue 13 item 8, DNS rebinding: without a token (loopback only) a web page whose name resolves
// to 127.0.0.1 would send `Host: its-own-name`. The real collector must answer only loopback
// names and http.allowed_hosts, and keep serving the dashboard and API to those.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestCollector, type TestCollector } from "./collector-helpers.js";
import { closeRawAgent, rawGet } from "./raw-http.js";

let plain: TestCollector;
let named: TestCollector;
beforeAll(async () => {
  plain = await startTestCollector();
  named = await startTestCollector({ overrides: { "http.allowed_hosts": ["gputel.lab.example"] } });
});
afterAll(async () => {
  await plain?.close();
  await named?.close();
  closeRawAgent();
});

const PATHS = ["/api/v1/hosts", "/api/v1/summary", "/metrics", "/"];

describe.each(PATHS)("%s without a token", (path) => {
  test.each(["attacker.example", "attacker.example:8080", "127.0.0.1.attacker.example", "localhost.evil"])(
    "Host %s: refused with 403",
    async (host) => {
      const answer = await rawGet(plain.http, path, { host });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "host_not_allowed" });
    },
  );

  test.each([
    "127.0.0.1",
    "localhost",
    "LOCALHOST",
    "[::1]",
    "127.0.0.1:PORT",
    "localhost:PORT",
    "[::1]:PORT",
  ])("Host %s: answered", async (host) => {
    const answer = await rawGet(plain.http, path, { host: host.replace("PORT", String(plain.http.port)) });
    expect(answer.status).toBe(200);
  });

  test("a configured name (http.allowed_hosts) is answered; others still are not", async () => {
    expect((await rawGet(named.http, path, { host: "gputel.lab.example:8080" })).status).toBe(200);
    expect((await rawGet(named.http, path, { host: "GPUTEL.lab.example" })).status).toBe(200);
    expect((await rawGet(named.http, path, { host: "other.lab.example" })).status).toBe(403);
  });
});

test("the dashboard's own requests (fetch from the page's origin) keep working", async () => {
  const page = await fetch(`${plain.url}/`);
  expect(page.status).toBe(200);
  const api = await fetch(`${plain.url}/api/v1/summary`);
  expect(api.status).toBe(200);
});
