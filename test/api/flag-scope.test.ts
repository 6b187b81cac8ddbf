// flagScope (pure): the dashboard's model, search and GPU filters resolved to GPUs and hosts.
import { describe, expect, it } from "vitest";
import { flagScope } from "../../collector/api/flag-scope.js";
import type { GpuView } from "../../collector/contract/api-contract.js";

const gpu = (host: string, index: number, model: string, customer: string) =>
  ({ uuid: `GPU-${host}-${index}`, host, index, model, labels: { customer } }) as unknown as GpuView;
const fleet = [
  gpu("fra-001", 0, "NVIDIA H100", "acme"),
  gpu("fra-001", 1, "NVIDIA H100", "acme"),
  gpu("ams-002", 0, "NVIDIA A100", "Globex"),
];

describe("flagScope", () => {
  it("is undefined without a filter (no narrowing)", () => {
    expect(flagScope(fleet, {})).toBeUndefined();
  });
  it("a search matches host, host:index, UUID, label values and model, case-insensitive", () => {
    expect(flagScope(fleet, { q: "FRA-001:1" })).toEqual({ uuids: ["GPU-fra-001-1"], hosts: ["fra-001"] });
    expect(flagScope(fleet, { q: "globex" })).toEqual({ uuids: ["GPU-ams-002-0"], hosts: ["ams-002"] });
    expect(flagScope(fleet, { q: "a100" })?.uuids).toEqual(["GPU-ams-002-0"]);
    expect(flagScope(fleet, { q: "gpu-fra" })?.hosts).toEqual(["fra-001"]);
  });
  it("model and search together: both must hold; nothing matching is an empty scope", () => {
    expect(flagScope(fleet, { model: "NVIDIA H100", q: "acme" })?.uuids).toHaveLength(2);
    expect(flagScope(fleet, { model: "NVIDIA H100", q: "globex" })).toEqual({ uuids: [], hosts: [] });
  });
  it("one GPU: itself and its host, with or without the list", () => {
    const one = { uuid: "GPU-x-0", host: "x" };
    expect(flagScope([], { gpu: one })).toEqual({ uuids: ["GPU-x-0"], hosts: ["x"] });
    expect(flagScope(fleet, { gpu: { uuid: "GPU-fra-001-0", host: "fra-001" }, q: "fra" })?.uuids).toEqual([
      "GPU-fra-001-0",
    ]);
  });
});
