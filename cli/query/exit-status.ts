// The exit status of an API-talking command (`gputel query`, `lease`, `report`, `flag`) from the
// HTTP status its collector answered, as docs/errors.md ("HTTP API errors") and docs/leases.md
// give them: one mapping, so a script reads every command's failures alike. It sits with the
// query client, which the other commands already import (cli/ itself imports every command).

/** HTTP status 0: the collector could not be reached (refused, unresolved, timed out). */
export const UNREACHABLE = 0;

/** 78 a missing or insufficient token, 65 any other refusal (4xx), 69 unreachable or failing (5xx). */
export function exitStatusOfHttp(status: number): number {
  if (status === 401 || status === 403) return 78;
  if (status >= 400 && status < 500) return 65;
  return 69;
}
