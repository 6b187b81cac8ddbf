// `gputel query --url a,b` where a collector has http.peers of its own: each collector must answer
// for itself (the fan-out header), or its answer already holds the other's GPUs and flags and the
// totals the CLI sums (the "showing N of M" notices) count them twice.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import { run } from "../../cli/query/cli.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { runCaptured } from "../helpers/cli.js";
import { feedFrames, openParts, type ServedCollector, serveParts, stopAll } from "../scale/fanout-helpers.js";

const TOKEN = "fanned-collectors-token";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 240; // 40 min at 10 s: long enough for idle flags
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 11 });
const nowMs = fleet.startMs + FRAMES * 10_000 + 5_000;
const dir = mkdtempSync(join(tmpdir(), "gputel-query-fanned-"));
const started: ServedCollector[] = [];

async function collector(name: string, even: boolean, peers: string[]): Promise<ServedCollector> {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  const frames = ([...fleet.frames(0, FRAMES)] as ValidFrame[]).filter(
    (f) => (Number(f.host.slice(5)) % 2 === 0) === even,
  );
  feedFrames(parts, frames, 40);
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers });
  started.push(c);
  return c;
}

const query = (args: string[]) => runCaptured(run, args, { GPUTEL_API_TOKEN: TOKEN });

let a: ServedCollector; // holds the even hosts and has b as its peer
let b: ServedCollector; // holds the odd hosts

describe("gputel query --url a,b where a fans out to b", () => {
  beforeAll(async () => {
    b = await collector("b", false, []);
    a = await collector("a", true, [b.url]);
  }, 60_000);

  afterAll(() => stopAll(started, dir));

  it("counts every GPU once in the notice of a cut list", async () => {
    const r = await query(["gpus", "--url", `${a.url},${b.url}`, "--limit", "3"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      new RegExp(`^gputel query: showing \\d+ of ${HOSTS * GPUS}; use --limit N for more\n$`),
    );
  });

  it("counts every open flag once in the notice of a cut list", async () => {
    const whole = await query(["flags", "--url", a.url, "--json"]);
    const total = (JSON.parse(whole.out) as { flags: unknown[] }).flags.length;
    expect(total).toBeGreaterThan(1);
    const r = await query(["flags", "--url", `${a.url},${b.url}`, "--limit", "1"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(new RegExp(`^gputel query: showing \\d+ of ${total} open flags`));
  });
});
