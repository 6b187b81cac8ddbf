// The flags list's GPU filters (issue 18), as the dashboard's URL spells them: model, q (host,
// host:index, UUID, label value, model), gpu (its own and its host's flags), problems (no info
// flags); totals count what the filters let through.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Flag } from "../../collector/flags/types.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { gpuUuid } from "./fleet-fixture.js";
import { type LiveApi, startLiveApi } from "./server-helpers.js";

interface Answer {
  total: number;
  totalsByKind: Record<string, number>;
  flags: Flag[];
}

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
  // A host-level flag: node-c is offline (no GPU of its own).
  new FlagStore(api.fleet.store.db).insert(
    {
      kind: "offline",
      severity: "warning",
      host: "node-c",
      gpuUuid: null,
      gpuIndex: null,
      site: "fra1",
      labels: { customer: "acme" },
      startMs: api.fleet.nowMs - 60_000,
      reason: "no frames",
      values: {},
    },
    api.fleet.nowMs,
  );
});
afterAll(async () => {
  await api?.close();
});

async function flags(query: string): Promise<Answer> {
  const r = await api.get(`/api/v1/flags?${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body as Answer;
}
const where = (a: Answer) =>
  a.flags.map((f) => `${f.kind}@${f.gpuIndex === null ? f.host : `${f.host}:${f.gpuIndex}`}`).sort();

describe("flags filters", () => {
  test("q finds flags by host, host:index, UUID, label value and model, case-insensitive", async () => {
    expect(where(await flags("q=NODE-B"))).toEqual(["idle-held@node-b:2", "idle@node-b:1"]);
    expect(where(await flags("q=node-a:3"))).toEqual(["overheat@node-a:3"]);
    expect(where(await flags(`q=${gpuUuid(0, 3).toLowerCase()}`))).toEqual(["overheat@node-a:3"]);
    const globex = await flags("q=globex");
    expect(globex.flags.every((f) => f.host === "node-b")).toBe(true);
    expect(globex.total).toBe(2);
    expect((await flags("q=h100")).total).toBe(8);
    expect((await flags("q=nothing-like-this")).total).toBe(0);
  });

  test("a host's host-level flag is found through its GPUs", async () => {
    expect(where(await flags("q=node-c"))).toEqual(["idle-held@node-c:2", "idle@node-c:1", "offline@node-c"]);
    expect(where(await flags("gpu=node-c:0"))).toEqual(["offline@node-c"]);
  });

  test("model narrows to that model's GPUs; an absent model to nothing", async () => {
    expect((await flags("model=NVIDIA%20H100%2080GB%20HBM3")).total).toBe(8);
    const none = await flags("model=NVIDIA%20A100");
    expect(none.total).toBe(0);
    expect(none.flags).toEqual([]);
  });

  test("problems leaves out the informational idle flags; totals count what is left", async () => {
    const p = await flags("problems=true");
    expect(p.flags.some((f) => f.severity === "info")).toBe(false);
    expect(p.totalsByKind.idle).toBe(0);
    expect(p.totalsByKind.overheat).toBe(1);
    expect(p.total).toBe(5);
    expect(where(await flags("problems=true&q=node-a"))).toEqual(["idle-held@node-a:2", "overheat@node-a:3"]);
  });

  test("gpu gives one GPU's history (state=all), by host:index or UUID; an unknown GPU is a 404", async () => {
    const byName = await flags("state=all&gpu=node-a:3");
    expect(where(byName)).toEqual(["overheat@node-a:3"]);
    expect(where(await flags(`state=all&gpu=${gpuUuid(0, 3)}`))).toEqual(where(byName));
    expect((await api.get("/api/v1/flags?gpu=node-z:9")).status).toBe(404);
    expect((await api.get("/api/v1/flags?problems=maybe")).status).toBe(400);
  });
});
