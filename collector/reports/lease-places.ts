// A lease line split by the host its GPU was on (issue 15: a GPU moved from one host to another
// is billed to each for its own time, not to its current host for the whole lease). The lease
// report by host or site groups these pieces instead of the line; by tenant, lease or model, and
// the statement, keep the line whole.
//
// Each piece takes its place's integers (lease-lines.ts: the usage of the GPU's minutes on that
// host, its flags, its down time) and a share of the line's derived integers chosen so that the
// pieces add up to the line exactly: leased time by the places' exact times; cost and paid-idle
// cost as differences of the line's rounding taken at each cumulative edge (one rounding per
// line, as the line has); no-data time (leased time no minute covers) given to the places in
// order up to each place's own, since minutes and exact times disagree by under a minute at the
// window's ends.

import { costMicros } from "./lease-lines.js";
import type { LeaseLine, Summable } from "./lease-report.js";

/** The line's pieces, one per place, in time order; their integers add up to the line's. */
export function placePieces(line: LeaseLine): Summable[] {
  const places = line.places;
  let leasedBefore = 0;
  let idleSoFar = 0;
  let costBefore = 0;
  let paidBefore = 0;
  let noDataLeft = line.unknownMs - line.unknownReportedMs;
  let downLeft = line.downMs;
  return places.map((p, i) => {
    const last = i === places.length - 1;
    // The places tile the window; capped all the same, so that the last piece ends the line.
    const leasedTo = last ? line.leasedMs : Math.min(line.leasedMs, leasedBefore + (p.toMs - p.fromMs));
    const leasedMs = leasedTo - leasedBefore;
    idleSoFar += p.idleMs + p.idleHeldMs;
    const cost = costMicros(line.priceMicros, leasedTo);
    const paid = costMicros(line.priceMicros, Math.min(leasedTo, idleSoFar));
    const noData = last ? noDataLeft : Math.min(noDataLeft, Math.max(0, leasedMs - p.coveredMs));
    const downMs = last ? downLeft : Math.min(downLeft, p.downMs);
    noDataLeft -= noData;
    downLeft -= downMs;
    const piece: Summable = Object.assign({}, line, p, {
      leasedMs,
      unknownMs: p.unknownReportedMs + noData,
      downMs,
      costMicros: cost - costBefore,
      paidIdleCostMicros: paid - paidBefore,
      places: [],
    });
    leasedBefore = leasedTo;
    costBefore = cost;
    paidBefore = paid;
    return piece;
  });
}
