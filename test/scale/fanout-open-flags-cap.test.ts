// A merged summary over collectors that each hold more open flags than one flag list holds
// (LIMITS.maxFlagRows, 10,000): a large site whose every GPU has several problems at once. The
// counts must be those of one collector holding every flag, and a host's offline episode, which
// every collector holds (its status reaches all of them), must still count once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../collector/api/params.js";
import type { Summary } from "../../collector/contract/api-contract.js";
import { FLAG_KINDS } from "../../collector/flags/types.js";
import { LeaseService } from "../../collector/leases/service.js";
import type { IInventory } from "../../shared/proto.js";
import {
  type CollectorParts,
  openParts,
  queryJson,
  type ServedCollector,
  serveParts,
  stopAll,
  tenantToken,
} from "./fanout-helpers.js";

const TOKEN = "fanout-open-flags-cap-token-0123456789";
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const HOUR = 3_600_000;
const nowMs = T0 + 2 * HOUR;
/** The kinds a GPU can have open at once, one flag of each per GPU (stale and offline are its host's). */
const GPU_KINDS = FLAG_KINDS.filter((k) => k !== "stale" && k !== "offline");
/** Each collector's GPUs: enough that its open flags are more than one list holds (910 × 11). */
const GPUS = Math.ceil((LIMITS.maxFlagRows + 1) / GPU_KINDS.length);
const HALVES = ["a", "b"] as const;
type Half = (typeof HALVES)[number];
const hostOf = (half: Half, n: number) => `${half}-${Math.floor(n / 8)}`;
const uuidOf = (half: Half, n: number) => `GPU-${half}-${n}`;
/** Its agent went offline an hour in: an open offline episode on every collector. */
const OFFLINE = hostOf("a", 0);
/** Every flag counted once: each half's GPUs' flags and the offline host's. */
const OPEN = 2 * GPUS * GPU_KINDS.length + 1;

const dir = mkdtempSync(join(tmpdir(), "gputel-fanout-open-flags-"));
const started: ServedCollector[] = [];

/** Every inventory (each collector receives all of them), 8 GPUs a host. */
function inventories(): IInventory[] {
  const out: IInventory[] = [];
  for (const half of HALVES)
    for (let first = 0; first < GPUS; first += 8)
      out.push({
        host: hostOf(half, first),
        site: "par1",
        labels: {},
        timestamp_ms: T0,
        gpus: Array.from({ length: Math.min(8, GPUS - first) }, (_, i) => ({
          index: i,
          uuid: uuidOf(half, first + i),
          name: "NVIDIA H100 80GB HBM3",
        })),
      });
  return out;
}

/**
 * A collector knowing every GPU, holding acme's lease of each (the same file imported
 * everywhere), the open flags of the `halves` whose frames it receives, and the offline episode.
 */
async function collector(name: string, halves: readonly Half[], peers: string[]) {
  const parts: CollectorParts = openParts(join(dir, `${name}.db`), nowMs);
  for (const inv of inventories()) parts.store.writeInventory(inv, T0);
  new LeaseService(parts.store.leases, () => nowMs).importAll(
    HALVES.flatMap((half) =>
      Array.from({ length: GPUS }, (_, n) => ({
        line: 1,
        fields: { id: `acme-${half}-${n}`, device: uuidOf(half, n), tenant: "acme", start: T0 },
      })),
    ).map((r, i) => ({ ...r, line: i + 1 })),
    "test",
  );
  const flags = parts.store.flagStore();
  const flag = { severity: "warning" as const, site: "par1", labels: {}, values: {}, reason: "r" };
  flags.transaction(() => {
    for (const half of halves)
      for (let n = 0; n < GPUS; n++)
        for (const kind of GPU_KINDS)
          flags.insert(
            {
              ...flag,
              kind,
              host: hostOf(half, n),
              gpuUuid: uuidOf(half, n),
              gpuIndex: n % 8,
              startMs: T0 + HOUR,
            },
            T0 + HOUR,
          );
    // The status reached each collector a moment apart.
    const at = T0 + HOUR + started.length;
    flags.insert({ ...flag, kind: "offline", host: OFFLINE, gpuUuid: null, gpuIndex: null, startMs: at }, at);
  });
  const served = await serveParts(parts, { nowMs, token: TOKEN, peers, leases: true });
  started.push(served);
  return served;
}

let whole: ServedCollector;
let a: ServedCollector;
let b: ServedCollector;

beforeAll(async () => {
  whole = await collector("whole", HALVES, []);
  b = await collector("b", ["b"], []);
  a = await collector("a", ["a"], [b.url]);
});

afterAll(async () => {
  await stopAll(started, dir);
});

async function get<T>(c: ServedCollector, path: string, token = TOKEN): Promise<T> {
  const r = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

const byKind = { ...Object.fromEntries(GPU_KINDS.map((k) => [k, 2 * GPUS])), offline: 1 };

describe("open flags past one list's cap on each collector", () => {
  it("are all counted by the collector that holds them, in its summary and /metrics", async () => {
    const s = await get<Summary>(whole, "/api/v1/summary");
    expect(s.flags).toEqual({ open: OPEN, byKind, gpusFlagged: 2 * GPUS });
    const metrics = await (
      await fetch(`${whole.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics.split("\n").filter((l) => l.startsWith("gputel_flag_open{"))).toHaveLength(OPEN);
  });

  it("are all counted once in the merged summary", async () => {
    const merged = await get<Summary & { peers: { missing: string[] } }>(a, "/api/v1/summary");
    expect(merged.peers.missing).toEqual([]);
    expect(merged.flags).toEqual({ open: OPEN, byKind, gpusFlagged: 2 * GPUS });
  });

  it("are all counted once by gputel query summary over both collectors", async () => {
    const merged = await queryJson<Summary>(["summary", "--url", `${a.url},${b.url}`], TOKEN);
    expect(merged.flags).toEqual({ open: OPEN, byKind, gpusFlagged: 2 * GPUS });
  });

  it("are all counted once in a tenant's merged summary", async () => {
    const acme = tenantToken(a, "acme", nowMs);
    const merged = await get<Summary & { peers: { missing: string[] } }>(a, "/api/v1/summary", acme);
    expect(merged.peers.missing).toEqual([]);
    expect(merged.flags).toEqual({ open: OPEN, byKind, gpusFlagged: 2 * GPUS });
  });
});
