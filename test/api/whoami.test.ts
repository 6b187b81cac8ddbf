// GET /api/v1/whoami: the role the presented token holds (and a tenant token's tenant), so the
// dashboard asks no route its role is refused: every role may ask it, an unknown token may not.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Principal } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";

const TOKEN = "whoami-admin-token-0123456789";
const tokens: Record<string, Principal> = {
  gputel_viewer: { role: "viewer", actor: "token:v" },
  gputel_acme: { role: "tenant", tenant: "acme", actor: "token:a" },
};

let app: FastifyInstance;
beforeAll(async () => {
  app = buildApp({} as never, TOKEN, silentLogger(), undefined, { tokens: (t) => tokens[t] });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

async function whoami(token: string) {
  const r = await app.inject({ url: "/api/v1/whoami", headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: r.json() as unknown };
}

test("each role's token learns its role, a tenant token its tenant; no actor or token id", async () => {
  expect(await whoami(TOKEN)).toEqual({ status: 200, body: { role: "admin", tenant: null } });
  expect(await whoami("gputel_viewer")).toEqual({ status: 200, body: { role: "viewer", tenant: null } });
  expect(await whoami("gputel_acme")).toEqual({ status: 200, body: { role: "tenant", tenant: "acme" } });
});

test("an unknown token is unauthorized, as on every private route", async () => {
  expect((await whoami("gputel_nobody")).status).toBe(401);
});

test("an unknown parameter answers 400, as on every route", async () => {
  const r = await app.inject({
    url: "/api/v1/whoami?tenant=globex",
    headers: { authorization: "Bearer gputel_acme" },
  });
  expect(r.statusCode).toBe(400);
});
