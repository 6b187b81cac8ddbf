// Issue 13 item 8: hostile query parameters against the real API server over a stored fleet.
// A huge `step` must be refused (not answered with stepMs 1e+23), and a prototype key
// (`__proto__`, `constructor`, `prototype`) must never be looked up as a label key.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gpuUuid } from "../api/fleet-fixture.js";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
});
afterAll(async () => {
  await api?.close();
});

describe("series step", () => {
  const series = `/api/v1/gpus/${gpuUuid(0, 0)}/series`;

  test.each(["99999999999999999999", "1e30", "401d", "100000w", "9999999y"])(
    "step=%s: 400 naming the parameter",
    async (step) => {
      const answer = await api.get(`${series}?step=${step}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: "bad_request", parameter: "step" });
    },
  );

  test("the largest allowed step (the longest range, 400d) is still answered", async () => {
    const answer = await api.get(`${series}?step=400d&from=24h`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ stepMs: 400 * 86_400_000 });
  });
});

describe.each(["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"])(
  "label key %s",
  (key) => {
    const isPrototypeName = ["__proto__", "constructor", "prototype"].includes(key);

    test.each(["utilization", "energy", "thermal", "capacity"])(
      "by=label:KEY on the %s report",
      async (kind) => {
        const answer = await api.get(`/api/v1/reports/${kind}?by=label:${key}`);
        if (isPrototypeName) {
          expect(answer.status).toBe(400);
          expect(answer.body).toMatchObject({ error: "bad_request", parameter: "by" });
        } else {
          // Any other key is a label the fleet simply lacks: one group named "".
          expect(answer.status).toBe(200);
          for (const row of (answer.body as { groups: { key: unknown }[] }).groups) expect(row.key).toBe("");
        }
      },
    );

    test.each(["gpus", "flags"])("label=KEY:value on /api/v1/%s", async (route) => {
      const answer = await api.get(`/api/v1/${route}?label=${key}:x`);
      if (isPrototypeName) {
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ error: "bad_request", parameter: "label" });
      } else expect(answer.status).toBe(200);
    });
  },
);
