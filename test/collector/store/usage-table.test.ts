import { describe, expect, it } from "vitest";
import { UsageTable } from "../../../collector/store/usage-table.js";
import { emptyUsage, type UsageSums } from "../../../collector/usage/usage-sums.js";

const usage = (over: Partial<UsageSums>): UsageSums => ({ ...emptyUsage(), ...over });

describe("UsageTable", () => {
  it("adds per GPU id, grows past its first size, and gives back the same sums as objects", () => {
    const table = new UsageTable(1);
    table.addUsage(7, usage({ samples: 2, busyMs: 2000, energyCwms: 5, maxTemperatureC: 60 }));
    table.addUsage(70_000, usage({ samples: 1, idleMs: 1000, utilizationSum: 90, utilizationCount: 1 }));
    table.addUsage(7, usage({ samples: 1, idleHeldMs: 1000, maxTemperatureC: 55 }));
    table.addUsage(3, usage({})); // a row without a sample
    expect(table.ids).toEqual([7, 70_000, 3]);
    expect(table.find(7)).toBe(0);
    expect(table.find(8)).toBe(-1);
    expect(table.find(1_000_000)).toBe(-1);
    expect(table.usage(table.find(7))).toEqual(
      usage({ samples: 3, busyMs: 2000, idleHeldMs: 1000, energyCwms: 5, maxTemperatureC: 60 }),
    );
    // No temperature reading: null, as the objects had it.
    expect(table.usage(table.find(70_000)).maxTemperatureC).toBeNull();
    expect([...table.toMap().keys()]).toEqual([7, 70_000]);
    expect([...table.toMap(true).keys()]).toEqual([7, 70_000, 3]);
    expect(() => table.row(-1)).toThrow(RangeError);
  });
});
