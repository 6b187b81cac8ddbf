// Shared pieces of the fan-out tests (http.peers): a collector's real parts in process (a SQLite
// Store, its flag engine, its HTTP API with the process and health routes on a free loopback
// port), a port nothing listens on (a peer that is down), `gputel query … --json` run in process,
// and the comparison of a merged answer with one collector's.
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { expect } from "vitest";
import { run } from "../../cli/query/cli.js";
import { StoreHealthBackend } from "../../collector/api/health-backend.js";
import { StoreProcessBackend } from "../../collector/api/process-backend.js";
import { type ApiServer, createApiServer } from "../../collector/api/server.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { newToken, storedTokenLookup } from "../../collector/api/tokens.js";
import { resolveFlagsConfig } from "../../collector/flags/config.js";
import { FlagEngine } from "../../collector/flags/engine.js";
import { checkMessage } from "../../collector/ingest/check.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { LeaseService } from "../../collector/leases/service.js";
import { FlagStore } from "../../collector/store/flag-store.js";
import { Store } from "../../collector/store/store.js";
import { silentLogger } from "../../shared/logger.js";
import { GpuState } from "../../shared/proto.js";
import { eventPayload, eventTopic, xidEvent } from "../collector/health/events.js";
import { runCaptured } from "../helpers/cli.js";

export interface CollectorParts {
  store: Store;
  flags: FlagEngine;
}

export interface ServedCollector extends CollectorParts {
  server: ApiServer;
  url: string;
}

/**
 * A Store at `path` and its started flag engine, both on the fixed clock `nowMs`; `sharedFrames`:
 * the collector is a member of a share group (broker.share_group), as in a fleet of collectors.
 */
export function openParts(
  path: string,
  nowMs: number,
  options: { sharedFrames?: boolean } = {},
): CollectorParts {
  const store = Store.open(path, { now: () => nowMs });
  const flags = new FlagEngine({
    store: new FlagStore(store.db),
    config: resolveFlagsConfig(),
    now: () => nowMs,
    ...(options.sharedFrames ? { sharedFrames: true } : {}),
  });
  flags.start();
  return { store, flags };
}

/** Every inventory of `gpus` (host → its one GPU's UUID, at index 0), taken at `atMs` as ingest does. */
export function feedInventories(
  parts: CollectorParts,
  gpus: readonly (readonly [string, string])[],
  atMs: number,
): void {
  for (const [host, uuid] of gpus) {
    const inventory = {
      host,
      site: "lab",
      labels: {},
      timestamp_ms: atMs,
      gpus: [{ index: 0, uuid, name: "NVIDIA H100 80GB HBM3" }],
    };
    parts.store.writeInventory(inventory, atMs);
    parts.flags.onInventory(inventory, atMs);
  }
}

/**
 * An Xid (79 unless `code` says) of `uuid` (kernel sequence `seq`) logged at `timeMs` and sent by
 * `host`'s agent (boot `boot-HOST`), received at `atMs`: stored, and what is new handed to the flag
 * engine, as ingest does. Kernel-log events reach every collector of a share group.
 */
export function feedXid(
  parts: CollectorParts,
  xid: { host: string; uuid: string; seq: number; timeMs: number; code?: number },
  atMs: number,
): void {
  const event = xidEvent(xid.seq, xid.code ?? 79, {
    gpu_uuid: xid.uuid,
    time_ms: xid.timeMs,
    pid: null,
    process_name: "",
  });
  const checked = checkMessage(
    eventTopic(xid.host),
    eventPayload(xid.host, [event], { bootId: `boot-${xid.host}` }),
    { username: undefined, nowMs: Math.max(atMs, xid.timeMs) },
  );
  if (checked.rejections.length > 0) throw new Error(JSON.stringify(checked.rejections));
  const { fresh } = parts.store.writeEvents(checked.events, atMs);
  parts.flags.onEvents(fresh, atMs);
}

/**
 * `host`'s frame at `t` (sequence counted in `stepMs` from `t0`) with its one GPU `uuid`, busy at
 * 50 %: its recovery action "GPU reset" where `gpu` says `resetting` (else none), or `lost`.
 */
export function oneGpuFrame(
  host: string,
  uuid: string,
  t: number,
  at: { t0: number; stepMs: number },
  gpu: { resetting?: boolean; lost?: boolean } = {},
): ValidFrame {
  const k = (t - at.t0) / at.stepMs;
  return hostFrame(host, k, at, [
    gpu.lost
      ? { index: 0, uuid, state: GpuState.GPU_STATE_LOST }
      : {
          index: 0,
          uuid,
          state: GpuState.GPU_STATE_OK,
          utilization_gpu_pct: 50,
          temperature_gpu_celsius: 50,
          power_draw_watts: 200,
          gpu_recovery_action: gpu.resetting ? 1 : 0,
        },
  ] as ValidFrame["gpus"]);
}

/** `host`'s frame `k` of a run `stepMs` apart from `t0` (boot `boot-HOST`, site lab), holding `gpus`. */
export function hostFrame(
  host: string,
  k: number,
  run: { t0: number; stepMs: number },
  gpus: ValidFrame["gpus"],
): ValidFrame {
  return {
    host,
    boot_id: `boot-${host}`,
    seq: k + 1,
    timestamp_ms: run.t0 + k * run.stepMs,
    interval_ms: run.stepMs,
    site: "lab",
    labels: {},
    gpus,
  } as ValidFrame;
}

/** Stores `frames` and runs the flag rules on them, `batch` frames at a time, each at its last frame's time. */
export function feedFrames(parts: CollectorParts, frames: readonly ValidFrame[], batch: number): void {
  for (let i = 0; i < frames.length; i += batch) {
    const some = frames.slice(i, i + batch);
    const at = (some[some.length - 1] as ValidFrame).timestamp_ms;
    parts.store.writeFrames(some, at);
    parts.flags.onFrames(some, at);
  }
}

/**
 * The parts' HTTP API, fleet token `token`, role tokens from the store, `peers` to fan out to;
 * with `leases`, the lease service too (tenant tokens are scoped by it).
 */
export async function serveParts(
  parts: CollectorParts,
  options: { nowMs: number; token: string; peers: string[]; leases?: boolean },
): Promise<ServedCollector> {
  const server = createApiServer({
    ...(options.leases ? { leases: new LeaseService(parts.store.leases, () => options.nowMs) } : {}),
    backend: new StoreBackend({
      store: parts.store,
      flags: parts.flags,
      now: () => options.nowMs,
      processes: new StoreProcessBackend({
        store: parts.store,
        flags: parts.flags,
        now: () => options.nowMs,
      }),
      health: new StoreHealthBackend({ store: parts.store, flags: parts.flags, now: () => options.nowMs }),
    }),
    listen: { host: "127.0.0.1", port: 0 },
    token: options.token,
    logger: silentLogger(),
    peers: options.peers,
    tokens: storedTokenLookup(parts.store.tokens),
  });
  const { port } = await server.start();
  return { ...parts, server, url: `http://127.0.0.1:${port}` };
}

/** GET `path` on `c` with Bearer `token`; `peer`: as a peer collector asks (x-gputel-fanout: own data only). */
export function callAs(c: { url: string }, path: string, token: string, peer = false): Promise<Response> {
  return fetch(`${c.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(peer ? { "x-gputel-fanout": "1" } : {}) },
  });
}

/** GET `path` on `c` with Bearer `token`, expecting 200; its JSON. */
export async function getJson<T = Record<string, unknown>>(
  c: { url: string },
  path: string,
  token: string,
): Promise<T> {
  const r = await callAs(c, path, token);
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}

/**
 * `value` without its row ids (`id`), and whose they are (a merged flag's `peer`, beside its id):
 * each store numbers its own rows, in the order it made them.
 */
export function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value === null || typeof value !== "object") return value;
  const row = "id" in value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== "id" && !(row && k === "peer"))
      .map(([k, v]) => [k, withoutIds(v)]),
  );
}

/** A new token of `tenant` in the parts' store, made at `nowMs`: the token to send. */
export function tenantToken(parts: CollectorParts, tenant: string, nowMs: number): string {
  const t = newToken();
  parts.store.tokens.insert(t.id, `tenant:${tenant}`, t.digest, "", nowMs);
  return t.token;
}

/** Stops every server, flag engine and store, then removes `dir`. */
export async function stopAll(collectors: readonly ServedCollector[], dir: string): Promise<void> {
  for (const c of collectors) {
    await c.server.stop();
    c.flags.stop();
    c.store.close();
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A loopback port nothing listens on. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 1;
}

/**
 * Numbers to 9 places (hours and kWh are sums of floats, in whatever order), everything else
 * exactly; `peers` (which only a merged answer has) left out on both sides.
 */
export function expectSame(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === "number") {
    expect(actual, path).toBeTypeOf("number");
    expect(actual as number, path).toBeCloseTo(expected, 9);
  } else if (Array.isArray(expected)) {
    expect(actual, path).toBeInstanceOf(Array);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    expected.forEach((e, i) => {
      expectSame((actual as unknown[])[i], e, `${path}[${i}]`);
    });
  } else if (expected !== null && typeof expected === "object") {
    expect(actual, path).toBeTypeOf("object");
    const { peers: _a, ...a } = actual as Record<string, unknown>;
    const { peers: _e, ...e } = expected as Record<string, unknown>;
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(e).sort());
    for (const k of Object.keys(e)) expectSame(a[k], e[k], `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}

/** `gputel query ARGS --json` in process with the API token `token`; its JSON (exit 0 asserted). */
export async function queryJson<T>(args: readonly string[], token: string): Promise<T> {
  const r = await runCaptured(run, [...args, "--json"], { GPUTEL_API_TOKEN: token });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as T;
}
