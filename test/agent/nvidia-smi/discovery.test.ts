import { describe, expect, it } from "vitest";
import {
  IDENTITY_FIELDS,
  parseHelpQueryGpu,
  planQuery,
  queryArgument,
} from "../../../agent/sources/nvidia-smi/discovery.js";
import { AbsentReason } from "../../../shared/proto.js";

const OLD_HELP = `List of valid properties to query for the switch "--query-gpu":

"timestamp"
The timestamp of when the query was made in format "YYYY/MM/DD HH:MM:SS.msec".

"index"
Zero based index of the GPU.

"uuid" or "gpu_uuid"
"pci.bus_id" or "gpu_bus_id"
"clocks_throttle_reasons.active"
Bitmask of active clock throttle reasons. See nvml.h for more details.
"clocks.sm"
"utilization.gpu"
"power.draw"
"A flag" that is in a description line and must be ignored.
`;

describe("field discovery", () => {
  it("reads names and aliases, ignoring description lines", () => {
    const known = parseHelpQueryGpu(OLD_HELP);
    expect([...known].sort()).toEqual(
      [
        "timestamp",
        "index",
        "uuid",
        "gpu_uuid",
        "pci.bus_id",
        "gpu_bus_id",
        "clocks_throttle_reasons.active",
        "clocks.sm",
        "utilization.gpu",
        "power.draw",
      ].sort(),
    );
  });

  it("old driver: throttle reasons under their old name, unknown metrics NOT_QUERIED", () => {
    const plan = planQuery(parseHelpQueryGpu(OLD_HELP));
    expect(plan.fields).toEqual([
      ...IDENTITY_FIELDS,
      "utilization.gpu",
      "power.draw",
      "clocks.sm",
      "clocks_throttle_reasons.active",
    ]);
    expect(queryArgument(plan)).toBe(
      "timestamp,index,uuid,pci.bus_id,utilization.gpu,power.draw,clocks.sm,clocks_throttle_reasons.active",
    );
    const notQueried = plan.notQueried.map((d) => d.key);
    expect(notQueried).toContain("fan_speed_pct");
    expect(notQueried).toContain("mig_mode");
    // Compute processes come from another query: neither queried nor NOT_QUERIED here.
    expect(notQueried).not.toContain("compute_processes");
    expect(plan.fields).not.toContain("fan.speed");
    expect(AbsentReason.ABSENT_REASON_NOT_QUERIED).toBe(5);
  });

  it("new driver: the preferred spelling wins over an alias it also knows", () => {
    const plan = planQuery(
      new Set([
        "clocks_event_reasons.active",
        "clocks_throttle_reasons.active",
        "power.draw",
        "power.draw.average",
      ]),
    );
    expect(plan.fields.slice(4)).toEqual(["power.draw", "clocks_event_reasons.active"]);
  });
});
