// leases.from_label: off by default; a label key when set; anything else refused naming the key.
import { expect, test } from "vitest";
import { loadCollectorConfig } from "../../../collector/config.js";

const load = (value?: string) =>
  loadCollectorConfig({
    file: "/dev/null",
    env: {},
    overrides: value === undefined ? {} : { "leases.from_label": value },
  });

test("off by default, a label key when set", () => {
  const off = load();
  expect(off.ok && off.config.leases.from_label).toBeUndefined();
  const on = load("customer");
  expect(on.ok && on.config.leases.from_label).toBe("customer");
});

test.each(["a b", "constructor", "9lives", ""])("%j is refused, naming leases.from_label", (value) => {
  const r = load(value);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.problems.map((p) => p.path)).toContain("leases.from_label");
});
