// FlagStore.flagEpisodes: the GPU episodes a lease part carries for the fan-out merge (lease-lines.ts)
// are those that overlap the range: begun in it, or begun before it and open at its start (ended
// in or after it, touching it, or still open), with an xid episode's opening Xid; of some GPUs
// alone when asked, by the same rule.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FlagEpisode } from "../../../collector/flags/types.js";
import { FlagStore } from "../../../collector/store/flag-store.js";
import { Store } from "../../../collector/store/store.js";

const dir = mkdtempSync(join(tmpdir(), "gputel-flag-episodes-"));
const store = Store.open(join(dir, "flags.db"), { now: () => 0 });
const flags = new FlagStore(store.db);

function episode(
  gpu: string | null,
  kind: "idle" | "xid" | "lost" | "stale",
  start: number,
  end: number | null,
) {
  const f = flags.insert(
    {
      kind,
      severity: "warning",
      host: "node-a",
      gpuUuid: gpu,
      gpuIndex: gpu === null ? null : 0,
      site: "",
      labels: {},
      startMs: start,
      reason: kind,
      values: kind === "xid" ? { code: 79, fault: "hardware", action: "reset-gpu", count: 1 } : {},
    },
    start,
  );
  if (end !== null) flags.close({ ...f, endMs: end, updatedMs: end });
}

episode("G1", "idle", 0, 50); // ended before the range
episode("G1", "idle", 50, 150); // began before, ended in it
episode("G1", "xid", 90, null); // began before, open
episode("G1", "lost", 120, 130); // in it
episode("G2", "idle", 80, 100); // ended at its start
episode("G2", "idle", 300, 400); // after it
episode("G3", "lost", 110, 120); // another GPU
episode(null, "stale", 110, 120); // a host's: no GPU

const names = (list: FlagEpisode[]) => list.map((e) => `${e.gpuUuid} ${e.kind} ${e.startMs}`).sort();

describe("FlagStore.flagEpisodes", () => {
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the GPU episodes that overlap the range, with an xid's opening Xid", () => {
    const all = flags.flagEpisodes({ fromMs: 100, toMs: 200 });
    expect(names(all)).toEqual(["G1 idle 50", "G1 lost 120", "G1 xid 90", "G2 idle 80", "G3 lost 110"]);
    expect(all.find((e) => e.kind === "xid")).toEqual({
      gpuUuid: "G1",
      kind: "xid",
      host: "node-a",
      startMs: 90,
      endMs: null,
      values: { code: 79, fault: "hardware", action: "reset-gpu" },
    });
    expect(all.find((e) => e.kind === "lost")).not.toHaveProperty("values");
  });

  it("of the GPUs asked for alone", () => {
    const some = flags.flagEpisodes({ fromMs: 100, toMs: 200, uuids: ["G1", "G2"] });
    expect(names(some)).toEqual(["G1 idle 50", "G1 lost 120", "G1 xid 90", "G2 idle 80"]);
  });
});
