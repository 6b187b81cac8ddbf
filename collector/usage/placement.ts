// Where a GPU sits (site, host, model, labels): the filters and groupings every aggregate,
// report and fan-out merge applies alike, so they cannot drift apart.

export type GroupBy = "site" | "host" | "model" | "gpu" | { label: string };

export interface AggregateFilters {
  site?: string;
  host?: string;
  model?: string;
  uuid?: string;
  /** Every label must be equal. */
  labels?: Readonly<Record<string, string>>;
}

export interface Placement {
  site: string;
  host: string;
  model: string;
  uuid: string;
  labels: Readonly<Record<string, string>>;
}

export function matchesFilters(f: AggregateFilters | undefined, p: Placement): boolean {
  if (!f) return true;
  if (f.site !== undefined && p.site !== f.site) return false;
  if (f.host !== undefined && p.host !== f.host) return false;
  if (f.model !== undefined && p.model !== f.model) return false;
  if (f.uuid !== undefined && p.uuid !== f.uuid) return false;
  for (const [k, v] of Object.entries(f.labels ?? {})) if (ownLabel(p, k) !== v) return false;
  return true;
}

/** The group a GPU falls in; "" when the host lacks the label. */
export function groupKey(by: GroupBy, p: Placement): string {
  if (by === "site") return p.site;
  if (by === "host") return p.host;
  if (by === "model") return p.model;
  if (by === "gpu") return p.uuid;
  return ownLabel(p, by.label) ?? "";
}

/** A label's value; never something inherited ("toString", "__proto__" are not labels). */
function ownLabel(p: Placement, key: string): string | undefined {
  return Object.hasOwn(p.labels, key) ? p.labels[key] : undefined;
}

/** The larger of two readings, either possibly absent. */
export function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Equal label sets (same keys, same values). */
export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}
