import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bearerMatches } from "../../collector/api/auth.js";
import { createApiServer } from "../../collector/api/server.js";
import { GputelError } from "../../shared/errors.js";
import { silentLogger } from "../../shared/logger.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

const TOKEN = "s3cret-token-0123456789";

describe("binding", () => {
  test.each(["0.0.0.0", "", "::", "192.0.2.10"])("refuses to start on %j without a token", async (host) => {
    const server = createApiServer({
      backend: {} as never, // never reached: the check comes before anything else
      listen: { host, port: 0 },
      logger: silentLogger(),
    });
    const error = await server.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GputelError);
    expect((error as GputelError).code).toBe("GPUTEL_E_CONFIG");
    expect((error as Error).message).toMatch(/bearer token is required/);
  });

  test("loopback without a token serves without auth", async () => {
    const api = await startLiveApi();
    try {
      expect((await api.get("/api/v1/summary")).status).toBe(200);
      expect((await api.get("/metrics")).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe("with a token", () => {
  let api: LiveApi;
  beforeAll(async () => {
    api = await startLiveApi({ token: TOKEN });
  });
  afterAll(async () => {
    await api?.close();
  });

  test.each(["/api/v1/summary", "/api/v1/gpus", "/api/v1/flags", "/api/v1/reports/energy", "/metrics"])(
    "%s: 401 without or with a wrong token, 200 with it",
    async (path) => {
      const none = await api.get(path);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ error: "unauthorized" });
      expect((await api.get(path, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
      expect((await api.get(path, { authorization: `Basic ${TOKEN}` })).status).toBe(401);
      expect((await api.get(path, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    },
  );

  test("bad parameters are checked only after auth (no probing without a token)", async () => {
    expect((await api.get("/api/v1/summary?bogus=1")).status).toBe(401);
  });

  test("the dashboard page itself loads without a token (it holds no data)", async () => {
    const page = await api.get("/");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<html");
  });
});

test("bearerMatches compares whole tokens", () => {
  expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
  expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
  expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
  expect(bearerMatches("Bearer", TOKEN)).toBe(false);
  expect(bearerMatches(undefined, TOKEN)).toBe(false);
});
