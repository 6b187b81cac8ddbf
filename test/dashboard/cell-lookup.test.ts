// Whether the page has a cell of a GPU (fleet-model.js, hasCell) is asked per MIG lease on every
// poll: it is a lookup built with the layout, and answers as the scan of the GPUs it replaces did,
// by UUID or `host:index`, for a layout from the server's own fleet cells.
import { describe, expect, it } from "vitest";
import { buildFleetCells, type CellSource } from "../../collector/api/fleet-cells.js";
// @ts-expect-error: plain browser JavaScript, no types
import { buildFleet, hasCell } from "../../collector/dashboard/static/fleet-model.js";

function gpu(host: string, index: number): CellSource {
  return {
    uuid: `GPU-${host}-${index}`,
    host,
    index,
    model: "H100",
    site: "par1",
    labels: {},
    values: {},
    state: "ok",
    flags: [],
  };
}

/** The scan the page ran before: every GPU, by UUID or host:index. */
function scanned(gpus: readonly { uuid: string; host: string; index: number }[], id: string): boolean {
  return gpus.some((g) => g.uuid === id || `${g.host}:${g.index}` === id);
}

describe("hasCell", () => {
  const sources = [gpu("node-1", 0), gpu("node-1", 1), gpu("node-2", 0), gpu("rack:7", 3)];
  const fleet = buildFleet(buildFleetCells(sources, () => "busy", { nowMs: 0, layout: true }));

  it("answers every id as the scan of the GPUs did", () => {
    const ids = [
      ...sources.flatMap((g) => [g.uuid, `${g.host}:${g.index}`]),
      "GPU-node-3-0",
      "node-1:2",
      "node-2:1",
      "rack:7",
      "MIG-0b7c4e2a-1111-2222-3333-444455556666",
      "node-1",
      "",
    ];
    const answers = ids.map((id) => [id, hasCell(fleet, id)]);
    expect(answers).toEqual(ids.map((id) => [id, scanned(fleet.gpus, id)]));
    expect(answers.filter(([, has]) => has)).toHaveLength(2 * sources.length);
  });

  it("has no cell before the first layout", () => {
    expect(hasCell(null, "GPU-node-1-0")).toBe(false);
  });
});
