// `gputel query flags` never cuts silently: when a collector's answer held fewer flags than its
// query matched, a line on stderr says how many were shown of how many, per kind, and how to see
// the rest (stdout stays the table or the JSON, for pipes).
import type { Flag } from "../../collector/flags/types.js";

export interface FlagsAnswer {
  flags: Flag[];
  generatedMs: number;
  limit?: number;
  truncated?: boolean;
  total?: number;
  totalsByKind?: Record<string, number>;
}

/** The stderr line when the (merged) list was cut, else undefined. */
export function truncationNotice(
  page: Pick<FlagsAnswer, "truncated" | "total" | "totalsByKind">,
  shown: number,
  state: string,
): string | undefined {
  if (page.truncated !== true) return undefined;
  const byKind = Object.entries(page.totalsByKind ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const what = state === "open" ? "open flags" : "flags";
  const of = page.total !== undefined ? ` of ${page.total}` : "";
  return `gputel query: showing ${shown}${of} ${what}${byKind ? ` (${byKind})` : ""}; raise --limit or narrow with --kind, --site, --host or --label\n`;
}
