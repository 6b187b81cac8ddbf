// A flag that spans several of a tenant's stays (two leases of one GPU with another tenant's lease
// between them) is shown once per stay it overlaps, each clipped to that stay: what the tenant's
// flag list shows adds up to the down time its statement counts, and nothing of the time between
// its stays is shown. The first piece keeps the flag's id; a later one is the id plus n·2^32.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { AgentState, type AgentStateValue, GpuState } from "../../shared/proto.js";
import {
  type FlagHarness,
  flagHarness,
  HOST,
  INTERVAL,
  inventory,
  MIN,
  T0,
  UUID,
} from "../collector/health/flag-harness.js";
import {
  ACME,
  GPU,
  HOUR,
  type ShownFlag,
  STAY_ID_STEP,
  statementDownMs,
  tenantApp,
  tenantGet,
  twoStays,
} from "./tenant-app.js";

const TOKEN = "tenant-stays-admin-token-0123456789";

let h: FlagHarness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  h?.cleanup();
});

interface FlagList {
  flags: ShownFlag[];
  total: number;
  totalsByKind: Record<string, number>;
  truncated: boolean;
  next: number | null;
}

function start(): FlagHarness {
  h = flagHarness();
  h.store.writeInventory(inventory(HOST, T0, [GPU]), T0);
  return h;
}

/** The host's agent says `state` at `at` (offline: its last will). */
function status(harness: FlagHarness, state: AgentStateValue, at: number): void {
  harness.engine.onStatus({ host: HOST, state, reason: "maintenance", timestamp_ms: at }, at);
}

/** acme's two stays (twoStays), the second until `secondEnd` or open (null). */
function serve(harness: FlagHarness, nowMs: number, secondEnd: number | null): FastifyInstance {
  const now = () => nowMs;
  app = tenantApp(harness, twoStays(harness, now, secondEnd), now, TOKEN, ACME);
  return app;
}

const flagsOf = async (a: FastifyInstance, query: string) =>
  (await tenantGet(a, `/api/v1/flags?${query}`)) as unknown as FlagList;

const spans = (flags: readonly ShownFlag[]) =>
  flags.map((f) => ({ kind: f.kind, fromMs: f.startMs, toMs: f.endMs })).sort((x, y) => x.fromMs - y.fromMs);

const shownMs = (flags: readonly ShownFlag[]) => flags.reduce((n, f) => n + ((f.endMs ?? 0) - f.startMs), 0);

describe("a flag over several of a tenant's stays", () => {
  it("a host's offline flag over two leases shows once per lease, clipped to each, as the statement counts it", async () => {
    const harness = start();
    status(harness, AgentState.AGENT_STATE_OFFLINE, T0 + 30 * MIN);
    status(harness, AgentState.AGENT_STATE_ONLINE, T0 + 4 * HOUR + 30 * MIN);
    const a = serve(harness, T0 + 5 * HOUR, T0 + 4 * HOUR);
    const fleet = (await tenantGet(a, "/api/v1/flags?state=all", TOKEN)) as unknown as FlagList;
    const real = fleet.flags.find((f) => f.kind === "offline");
    expect(real).toBeDefined();

    const whole = await flagsOf(a, "state=all");
    expect(spans(whole.flags)).toEqual([
      { kind: "offline", fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
      { kind: "offline", fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR },
    ]);
    expect(shownMs(whole.flags)).toBe(2 * HOUR);
    expect(shownMs(whole.flags)).toBe(await statementDownMs(a, T0));
    // The first stay's piece keeps the flag's id; the second is told apart from it.
    const ids = [...whole.flags].sort((x, y) => x.startMs - y.startMs).map((f) => f.id);
    expect(ids).toEqual([real?.id, (real?.id ?? 0) + STAY_ID_STEP]);
    // Totals and pages count the pieces.
    expect([whole.total, whole.totalsByKind.offline, whole.truncated]).toEqual([2, 2, false]);
    const first = await flagsOf(a, "state=all&limit=1");
    expect(first).toMatchObject({ total: 2, truncated: true, next: 1 });
    const second = await flagsOf(a, "state=all&limit=1&offset=1");
    expect(second).toMatchObject({ total: 2, truncated: false, next: null });
    expect([...first.flags, ...second.flags].map((f) => f.id)).toEqual(whole.flags.map((f) => f.id));
    // A range asked for keeps only the pieces that overlap it.
    const late = await flagsOf(a, `state=all&from=${T0 + 150 * MIN}`);
    expect(spans(late.flags)).toEqual([{ kind: "offline", fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR }]);
    expect(late.total).toBe(1);
  });

  it("a GPU's lost flag over two leases shows once per lease, never over the other tenant's time between", async () => {
    const harness = start();
    for (let t = T0; t < T0 + 5 * HOUR; t += 10 * INTERVAL) {
      const lost = t >= T0 + 30 * MIN && t < T0 + 4 * HOUR + 30 * MIN;
      harness.frame(t, { state: lost ? GpuState.GPU_STATE_LOST : GpuState.GPU_STATE_OK });
    }
    const a = serve(harness, T0 + 5 * HOUR, T0 + 4 * HOUR);
    const { flags } = await flagsOf(a, "state=all");
    const lost = flags.filter((f) => f.kind === "lost");
    expect(lost.map((f) => f.gpuUuid)).toEqual([UUID, UUID]);
    expect(spans(lost)).toEqual([
      { kind: "lost", fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
      { kind: "lost", fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR },
    ]);
    expect(shownMs(lost)).toBe(await statementDownMs(a, T0));
  });

  it("an open flag shows its earlier stay's piece as ended, and only the current stay's piece as open", async () => {
    const harness = start();
    status(harness, AgentState.AGENT_STATE_OFFLINE, T0 + 30 * MIN);
    const a = serve(harness, T0 + 4 * HOUR, null);
    expect(spans((await flagsOf(a, "state=all")).flags)).toEqual([
      { kind: "offline", fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
      { kind: "offline", fromMs: T0 + 3 * HOUR, toMs: null },
    ]);
    const open = await flagsOf(a, "state=open");
    expect(spans(open.flags)).toEqual([{ kind: "offline", fromMs: T0 + 3 * HOUR, toMs: null }]);
    const summary = (await tenantGet(a, "/api/v1/summary")) as { flags: { open: number } };
    expect(summary.flags.open).toBe(1);
  });
});
