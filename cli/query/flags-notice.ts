// `gputel query flags` never cuts silently: when a collector's answer held fewer flags than its
// query matched, a line on stderr says how many were shown of how many, per kind, and how to see
// the rest (stdout stays the table or the JSON, for pipes).
import type { Flag } from "../../collector/flags/types.js";

export interface FlagsAnswer {
  flags: Flag[];
  generatedMs: number;
  truncated?: boolean;
  total?: number;
  totalsByKind?: Record<string, number>;
}

/** The stderr line when an answer was cut, else undefined. */
export function truncationNotice(
  answers: readonly FlagsAnswer[],
  shown: number,
  state: string,
): string | undefined {
  if (!answers.some((a) => a.truncated === true)) return undefined;
  const withTotals = answers.every((a) => a.total !== undefined);
  const total = withTotals ? answers.reduce((n, a) => n + (a.total ?? 0), 0) : undefined;
  const kinds: Record<string, number> = {};
  for (const a of answers)
    for (const [k, n] of Object.entries(a.totalsByKind ?? {})) kinds[k] = (kinds[k] ?? 0) + n;
  const byKind = Object.entries(kinds)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const what = state === "open" ? "open flags" : "flags";
  const of = total !== undefined ? ` of ${total}` : "";
  return `gputel query: showing ${shown}${of} ${what}${byKind ? ` (${byKind})` : ""}; raise --limit or narrow with --kind, --site, --host or --label\n`;
}
