// `gputel query --url a,b --limit N`: the merged list holds at most N rows, the same rows in the same
// order as one collector holding every host gives, and the notice counts every row there is once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthFleet } from "../../bench/synth-fleet.js";
import { run } from "../../cli/query/cli.js";
import type { ValidFrame } from "../../collector/ingest/validate.js";
import { runCaptured } from "../helpers/cli.js";
import { feedFrames, openParts, type ServedCollector, serveParts, stopAll } from "../scale/fanout-helpers.js";

const TOKEN = "fanned-limit-token";
const HOSTS = 6;
const GPUS = 4;
const FRAMES = 240; // 40 min at 10 s: long enough for idle flags
const fleet = new SynthFleet({ hosts: HOSTS, gpusPerHost: GPUS, intervalMs: 10_000, seed: 11 });
const nowMs = fleet.startMs + FRAMES * 10_000 + 5_000;
// Drawn once: the fleet's readings and jitter come from one random stream.
const everyFrame = [...fleet.frames(0, FRAMES)] as ValidFrame[];
const dir = mkdtempSync(join(tmpdir(), "gputel-query-fanned-limit-"));
const started: ServedCollector[] = [];

/**
 * A collector holding the hosts `holds` picks (by host number), its flag rules run every 10 frame
 * times as every other collector's, so that each flag starts at the same instant on all of them.
 */
async function collector(name: string, holds: (host: number) => boolean): Promise<ServedCollector> {
  const parts = openParts(join(dir, `${name}.db`), nowMs);
  const frames = everyFrame.filter((f) => holds(Number(f.host.slice(5))));
  const hosts = new Set(frames.map((f) => f.host)).size;
  feedFrames(parts, frames, hosts * 10);
  const c = await serveParts(parts, { nowMs, token: TOKEN, peers: [] });
  started.push(c);
  return c;
}

const query = (args: string[]) => runCaptured(run, args, { GPUTEL_API_TOKEN: TOKEN });

/**
 * A flag without its collector's row id (each collector numbers its own), the `peer` that names
 * whose id it is, and update time (the rules run at the last frame each was fed, whose jitter
 * differs between the collectors).
 */
const comparable = ({
  id: _id,
  peer: _p,
  updatedMs: _u,
  ...rest
}: {
  id: number;
  peer?: string;
  updatedMs: number;
}) => rest;

let whole: ServedCollector; // every host
let pair: string; // the even hosts' collector and the odd hosts'

describe("gputel query --url a,b --limit N", () => {
  beforeAll(async () => {
    whole = await collector("whole", () => true);
    const even = await collector("even", (h) => h % 2 === 0);
    const odd = await collector("odd", (h) => h % 2 === 1);
    pair = `${even.url},${odd.url}`;
  }, 60_000);

  afterAll(() => stopAll(started, dir));

  it("lists at most N GPUs, those one collector lists, and counts them all", async () => {
    const one = await query(["gpus", "--url", whole.url, "--limit", "5", "--json"]);
    const two = await query(["gpus", "--url", pair, "--limit", "5", "--json"]);
    expect(two.code, two.err).toBe(0);
    const expected = JSON.parse(one.out) as { gpus: { uuid: string }[]; total: number };
    const merged = JSON.parse(two.out) as { gpus: { uuid: string }[]; total: number };
    expect(merged.gpus.map((g) => g.uuid)).toEqual(expected.gpus.map((g) => g.uuid));
    expect(merged.total).toBe(HOSTS * GPUS);
    expect(two.err).toBe(`gputel query: showing 5 of ${HOSTS * GPUS}; use --limit N for more\n`);
  });

  it.each([["open"], ["all"]])(
    "lists at most N flags (--state %s), those one collector lists",
    async (state) => {
      const one = await query(["flags", "--url", whole.url, "--state", state, "--limit", "3", "--json"]);
      const two = await query(["flags", "--url", pair, "--state", state, "--limit", "3", "--json"]);
      expect(two.code, two.err).toBe(0);
      const expected = JSON.parse(one.out) as { flags: { id: number; updatedMs: number }[]; total: number };
      const merged = JSON.parse(two.out) as { flags: { id: number; updatedMs: number }[] };
      expect(expected.total).toBeGreaterThan(3);
      expect(merged.flags.map(comparable)).toEqual(expected.flags.map(comparable));
      expect(two.err).toBe(one.err);
    },
  );
});
