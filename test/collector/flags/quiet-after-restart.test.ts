// Flags that close after a quiet spell (gpu-claim-conflict: no refused claim for CLEAR_AFTER_MS;
// xid: no Xid for XID_QUIET_MS) across a collector restart: the time the collector could not
// receive is not quiet, as it is not staleness (issue 18). Claims and Xids that kept coming while
// it was down (the agents' spools replay the events) arrive once it receives again.
import { afterEach, describe, expect, it } from "vitest";
import { CLEAR_AFTER_MS } from "../../../collector/flags/claim-flags.js";
import { XID_QUIET_MS } from "../../../collector/flags/rules/xid.js";
import type { ClaimEvent } from "../../../collector/ingest/admission.js";
import { xidEvent } from "../health/events.js";
import { type FlagHarness, flagHarness } from "../health/flag-harness.js";
import { cleanup, type Harness, harness, MIN, T0 } from "./helpers.js";

const refused: ClaimEvent = {
  type: "refused",
  host: "node-b",
  uuid: "GPU-x",
  index: 0,
  owner: "node-a",
  detail: "held by node-a, which lists it in its inventory and reported 1 s ago (hold 600 s)",
};

describe("gpu-claim-conflict across a restart", () => {
  let h: Harness;
  afterEach(() => cleanup(h));

  it("a claim conflict whose claims kept coming up to the restart stays one open episode", () => {
    h = harness();
    for (let t = T0; t <= T0 + 20 * MIN; t += 10_000) h.engine.onClaims([refused], t);
    h = h.reopen();
    const back = T0 + 20 * MIN + 5_000;
    h.engine.receiving(back);
    h.engine.tick(back + 1_000); // the housekeeping tick, before the claimant's next retry
    h.engine.onClaims([refused], back + 2_000);

    const episodes = h.engine.history({ kinds: ["gpu-claim-conflict"] });
    expect(episodes).toHaveLength(1);
    expect(episodes[0]).toMatchObject({ startMs: T0, endMs: null });
    h.engine.tick(back + 2_000 + CLEAR_AFTER_MS);
    expect(h.engine.history({ kinds: ["gpu-claim-conflict"] })[0]?.endMs).toBe(back + 2_000);
  });
});

describe("xid across a restart", () => {
  let health: FlagHarness;
  afterEach(() => health.cleanup());

  it("an xid flag is not closed by the collector's own downtime before the replayed Xids arrive", () => {
    health = flagHarness();
    const start = health.clock.now;
    health.xid([xidEvent(1, 13, { time_ms: start })]);
    health = health.restart();
    const back = start + XID_QUIET_MS + 5 * MIN; // down for 20 minutes
    health.clock.now = back;
    health.engine.receiving(back);
    health.engine.tick(back + 1_000);
    health.clock.now = back + 2_000;
    health.xid([xidEvent(2, 13, { time_ms: start + 10 * MIN })]); // logged while the collector was down

    const episodes = health.history("xid");
    expect(episodes).toHaveLength(1);
    expect(episodes[0]).toMatchObject({ endMs: null, values: { count: 2 } });
  });
});
