import { describe, expect, it } from "vitest";
import { ReplayState } from "../../../agent/spool/replay-state.js";

const sized = (...ids: number[]) => ids.map((id) => ({ id, size: 10 }));

describe("ReplayState", () => {
  it("splits at the id of the last reconnect", () => {
    const state = new ReplayState(11);
    expect(state.range("backlog")).toEqual({ from: 0, below: 11 });
    expect(state.range("live").from).toBe(11);
    state.handOut("live", sized(11, 12));
    state.reconnected(15);
    // 11 and 12 are in flight; 13 and 14 (never handed out) are backlog now.
    expect(state.range("backlog")).toEqual({ from: 0, below: 15 });
    expect(state.range("live").from).toBe(15);
  });

  it("moves a cursor past frames handed out and back to the oldest nacked", () => {
    const state = new ReplayState(100);
    state.handOut("backlog", sized(1, 2, 3));
    state.handOut("backlog", sized(4, 5));
    expect(state.range("backlog").from).toBe(6);
    expect(state.nack([4, 5, 99])).toBe(2);
    expect(state.range("backlog").from).toBe(4);
    expect(state.inFlightCount).toBe(3);
    expect(state.inFlightBytes).toBe(30);
    expect(state.nackAll()).toBe(3);
    expect(state.range("backlog").from).toBe(1);
  });

  it("settles acknowledged ids once", () => {
    const state = new ReplayState(1);
    state.handOut("live", sized(1, 2));
    expect([...state.settle([1, 1, 7]).keys()]).toEqual([1]);
    expect(state.isInFlight(1)).toBe(false);
    expect(state.isInFlight(2)).toBe(true);
  });
});
