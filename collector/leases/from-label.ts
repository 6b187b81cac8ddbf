// `leases.from_label: KEY`: tenancy kept as a host label in the agents' configuration becomes
// leases. The decision is pure: given the lease in force on a device when a frame was taken and
// the label's value in that frame, what to do. A change ends the old lease and starts a new one
// at the frame's time, so the past stays with the old tenant. Only leases this rule made
// (source "label") are touched: a lease an operator made through the API or an import wins.
import { type Lease, TENANT_PATTERN } from "./model.js";

export type LabelDecision =
  | { kind: "keep" }
  /** The value is not a tenant name, or a manual lease holds the device: nothing changes. */
  | { kind: "ignore"; reason: "manual_lease" | "bad_value" }
  | { kind: "change"; end?: string; start?: string; atMs: number };

/**
 * @param current the lease in force on the device at `atMs` (undefined: none)
 * @param value the label's value in the frame (undefined or "": the host has no such label)
 */
export function decideFromLabel(
  current: Lease | undefined,
  value: string | undefined,
  atMs: number,
): LabelDecision {
  const tenant = value === undefined || value === "" ? undefined : value;
  if (current && current.source !== "label") return { kind: "ignore", reason: "manual_lease" };
  if (tenant !== undefined && !TENANT_PATTERN.test(tenant)) return { kind: "ignore", reason: "bad_value" };
  if (current?.tenant === tenant) return { kind: "keep" };
  // A lease closed at a later time covers this instant: the frame is a late replay, and the
  // change it shows was already acted on (or the past it would rewrite is settled).
  if (current && current.endMs !== null) return { kind: "keep" };
  if (!current && tenant === undefined) return { kind: "keep" };
  return {
    kind: "change",
    atMs,
    ...(current ? { end: current.id } : {}),
    ...(tenant !== undefined ? { start: tenant } : {}),
  };
}
