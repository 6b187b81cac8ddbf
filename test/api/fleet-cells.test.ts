// The compact fleet answer's flag mask carries the health kinds (issue 16): bit i is kinds[i],
// and a GPU with an Xid, a reset to do and a degraded link decodes back to exactly those kinds.
import { describe, expect, it } from "vitest";
import { buildFleetCells, type CellSource } from "../../collector/api/fleet-cells.js";
import type { FlagKind } from "../../collector/flags/types.js";

const HEALTH: FlagKind[] = ["xid", "reset-required", "pcie-degraded", "nvlink-degraded"];

function gpu(index: number, kinds: FlagKind[]): CellSource {
  return {
    uuid: `GPU-${index}`,
    host: "node-1",
    index,
    model: "H100",
    site: "par1",
    labels: {},
    values: {},
    state: "ok",
    flags: kinds.map((kind) => ({ kind })),
  };
}

describe("fleet cells flag mask", () => {
  it("has a bit for every health kind, each distinct and inside 31 bits", () => {
    const cells = buildFleetCells([gpu(0, [])], () => "unknown", { nowMs: 0, layout: false });
    const bits = HEALTH.map((k) => cells.kinds.indexOf(k));
    expect(bits.every((b) => b >= 0 && b < 31)).toBe(true);
    expect(new Set(bits).size).toBe(HEALTH.length);
  });

  it("decodes a GPU's health flags back from its mask", () => {
    const cells = buildFleetCells(
      [
        gpu(0, ["xid", "reset-required"]),
        gpu(1, ["pcie-degraded", "nvlink-degraded", "overheat"]),
        gpu(2, []),
      ],
      () => "busy",
      { nowMs: 0, layout: false },
    );
    const kinds = (mask: number) => cells.kinds.filter((_, i) => mask & (1 << i));
    expect(kinds(cells.gpus.flags[0] ?? 0)).toEqual(["xid", "reset-required"]);
    expect(kinds(cells.gpus.flags[1] ?? 0)).toEqual(["overheat", "pcie-degraded", "nvlink-degraded"]);
    expect(cells.gpus.flags[2]).toBe(0);
  });
});
