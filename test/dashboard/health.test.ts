// The dashboard's health helpers (collector/dashboard/static/health.js): which badge a heat-map
// cell shows, and the Xid marks drawn on a GPU's charts.
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain browser JavaScript, no types
import { eventMarks, healthBadge } from "../../collector/dashboard/static/health.js";

describe("dashboard health", () => {
  it("badges the most urgent health flag of a cell", () => {
    expect(healthBadge(["xid", "reset-required"])).toMatchObject({ text: "RST" });
    expect(healthBadge(["idle", "xid"])).toMatchObject({ text: "XID" });
    expect(healthBadge(["pcie-degraded"])).toMatchObject({ text: "LINK" });
    expect(healthBadge(["idle"])).toBeNull();
  });

  it("marks each event inside the plot, hardware red and the workload's amber", () => {
    const strokes: string[] = [];
    const texts: string[] = [];
    const ctx = {
      save() {},
      restore() {},
      setLineDash() {},
      beginPath() {},
      moveTo() {},
      lineTo() {},
      stroke() {
        strokes.push(this.strokeStyle);
      },
      fillText(text: string) {
        texts.push(text);
      },
      strokeStyle: "",
      fillStyle: "",
      lineWidth: 0,
      font: "",
    };
    (globalThis as { devicePixelRatio?: number }).devicePixelRatio = 1;
    const u = { ctx, bbox: { left: 0, top: 0, width: 100, height: 50 }, valToPos: (v: number) => v - 1000 };
    const plugin = eventMarks([
      { timeMs: 1_010_000, code: 79, applicationLevel: false },
      { timeMs: 1_050_000, code: 13, applicationLevel: true },
      { timeMs: 9_000_000, code: 48, applicationLevel: false },
    ]);
    plugin.hooks.draw[0](u);
    expect(texts).toEqual(["Xid 79", "Xid 13"]);
    expect(strokes).toEqual(["#ef4444", "#f59e0b"]);
  });
});
