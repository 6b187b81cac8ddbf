// One collector's share of a thermal, capacity or downtime report: per GPU and host stretch, the
// integer sums of its own samples (fleetStretches, as its own report reads them), and the flag
// episodes the report reads. A collector serves it to its peers (FLEET_PART_PATH); the asking
// collector adds the stretches up and builds the report with the same builders
// (collector/merge/merge-fleet.ts), so the merged report is what one collector holding every
// sample gives.
import { GputelError } from "../../shared/errors.js";
import type { FleetPart, FleetPartKind, StretchPart } from "../contract/api-contract.js";
import { DOWN_KINDS } from "../reports/down-time.js";
import { fleetStretches, placeOf } from "../reports/fleet-usage.js";
import { flagsIn, type ReportSources } from "../reports/reports.js";
import { THERMAL_KINDS } from "../reports/thermal-report.js";
import { emptyUsage } from "../usage/usage-sums.js";

/** The flag kinds each report reads (the capacity report reads none). */
const FLAG_KINDS: Record<FleetPartKind, readonly (typeof THERMAL_KINDS | typeof DOWN_KINDS)[number][]> = {
  thermal: THERMAL_KINDS,
  capacity: [],
  downtime: DOWN_KINDS,
};

/** This collector's part of a `kind` report over [fromMs, toMs), widened to whole minutes. */
export function fleetPart(
  sources: ReportSources,
  kind: FleetPartKind,
  fromMs: number,
  toMs: number,
): FleetPart {
  const nowMs = (sources.now ?? Date.now)();
  const kinds = FLAG_KINDS[kind];
  if (kinds.length > 0 && !sources.flags)
    throw new GputelError("GPUTEL_E_API", `The ${kind} report needs the flag history`);
  // Only the thermal report reads every bucket for the highest temperature.
  const s = fleetStretches(sources.store, { fromMs, toMs }, nowMs, {}, kind === "thermal");
  const stretches = s.stretches.map((st): StretchPart => {
    const at = placeOf(st);
    return {
      uuid: at.uuid,
      ...(at.index !== undefined ? { index: at.index } : {}),
      host: at.name,
      site: at.site,
      model: at.model,
      labels: { ...at.labels },
      fromMs: st.fromMs,
      toMs: st.toMs,
      periodMs: st.periodMs,
      ...(st.totals ?? emptyUsage()),
    };
  });
  const flags =
    kinds.length > 0 && sources.flags
      ? flagsIn(sources.flags, s.fromMs, Math.min(s.toMs, nowMs), { kinds })
      : [];
  return { kind, fromMs: s.fromMs, toMs: s.toMs, nowMs, stretches, flags };
}
