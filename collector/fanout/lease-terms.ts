// What collectors send each other about a lease another collector may not hold: its terms, taken
// from the lease line part its holder gave (collector/api/fanout-leases.ts; docs/scaling.md,
// "Leases across collectors").
import type { LeaseTerms } from "../leases/model.js";
import type { LeaseLinePart } from "../reports/lease-lines.js";

/**
 * A part's lease as terms a peer can count: inside the range, the lease's window stands for the
 * lease (a collector's window is the lease clipped to the range and to now).
 */
export function termsOf(p: LeaseLinePart): LeaseTerms {
  return {
    id: p.lease,
    device: p.device,
    gpu: p.gpu,
    tenant: p.tenant,
    startMs: p.fromMs,
    endMs: p.toMs,
    contract: p.contract,
    priceMicros: p.priceMicros,
    currency: p.currency,
    availabilityMilli: p.availabilityMilli,
    labels: p.labels,
  };
}
