// `gputel query flags --url a,b` merges two collectors' lists in the CLI, and each collector numbers
// its own flags. Here neither has peers (http.peers): b holds host-x's GX's xid and reset-required,
// a the same episodes of host-y's GY, raised in the same order, so numbered alike. An id the merged
// list shows for GX is b's: the list must say so (`peer`, as the API's merge does), and
// `gputel flag ack ID --url a,b` must close GX's on b, never GY's on a (which takes that id alone).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as flagCli } from "../../cli/flag/cli.js";
import { runCaptured } from "../helpers/cli.js";
import { callAs, queryJson, type ServedCollector, serveParts, stopAll } from "./fanout-helpers.js";
import { GX, gxCollector, type RoundRobinGx } from "./round-robin-gx.js";

const TOKEN = "cli-fanned-ack-token-0123456789abcdefgh";
const MIN = 60_000;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const GY = "GPU-99999999-8888-7777-6666-555555555555";
const dir = mkdtempSync(join(tmpdir(), "gputel-cli-fanned-ack-"));
const scenario: RoundRobinGx = { dir, token: TOKEN, nowMs: NOW, t0Ms: NOW - 60 * MIN, xidMs: NOW - 10 * MIN };

type Listed = { id: number; kind: string; gpuUuid: string | null; endMs: number | null; peer?: string };

describe("gputel flag ack of an id gputel query flags --url a,b showed for b's flag", () => {
  const started: ServedCollector[] = [];
  let a: ServedCollector;
  let b: ServedCollector;

  beforeAll(async () => {
    b = await serveParts(
      gxCollector(scenario, "b", () => true, false),
      { nowMs: NOW, token: TOKEN, peers: [] },
    );
    started.push(b);
    const gy = { ...scenario, gpu: { host: "host-y", uuid: GY } };
    a = await serveParts(
      gxCollector(gy, "a", () => true, false),
      { nowMs: NOW, token: TOKEN, peers: [] },
    );
    started.push(a);
  }, 60_000);

  afterAll(async () => {
    await stopAll(started, dir);
  });

  /** `c`'s own flag of `kind` on `gpu`. */
  async function own(c: ServedCollector, gpu: string, kind: string): Promise<Listed> {
    const r = await callAs(c, `/api/v1/flags?state=all&gpu=${gpu}&kind=${kind}`, TOKEN);
    const { flags } = (await r.json()) as { flags: Listed[] };
    expect(flags, `${c.url} ${gpu} ${kind}`).toHaveLength(1);
    return flags[0] as Listed;
  }

  /** GX's and GY's flags of `kind` as `gputel query flags --url a,b --json` lists them. */
  async function listed(kind: string): Promise<{ gx: Listed; gy: Listed }> {
    const { flags } = await queryJson<{ flags: Listed[] }>(["flags", "--url", `${a.url},${b.url}`], TOKEN);
    const gx = flags.find((f) => f.kind === kind && f.gpuUuid === GX);
    const gy = flags.find((f) => f.kind === kind && f.gpuUuid === GY);
    expect(gx && gy, kind).toBeTruthy();
    return { gx: gx as Listed, gy: gy as Listed };
  }

  it("marks an id that is not the first collector's with the URL it came from", async () => {
    const { gx, gy } = await listed("reset-required");
    expect(gx.id).toBe(gy.id);
    expect(gx.id).toBe((await own(b, GX, "reset-required")).id);
    expect(gx.peer).toBe(b.url);
    expect(gy.peer).toBeUndefined();
  });

  it("acknowledges the id shown for b's flag on b, given the same --url a,b", async () => {
    const { gx } = await listed("reset-required");
    const args = ["ack", String(gx.id), "--note", "replaced", "--url", `${a.url},${b.url}`];
    const env = { GPUTEL_API_TOKEN: TOKEN };
    // Both collectors' open flags show that id: the CLI asks which GPU rather than guess.
    const ambiguous = await runCaptured(flagCli, args, env);
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.err).toContain(GX);
    expect(ambiguous.err).toContain(GY);
    expect((await own(b, GX, "reset-required")).endMs).toBeNull();
    expect((await own(a, GY, "reset-required")).endMs).toBeNull();
    const done = await runCaptured(flagCli, [...args, "--gpu", GX], env);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toContain(`acknowledged on ${b.url}`);
    expect((await own(b, GX, "reset-required")).endMs).toBe(NOW);
    expect((await own(a, GY, "reset-required")).endMs).toBeNull();
  });
});
