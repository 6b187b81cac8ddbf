// Operands a command does not take: one message for every CLI (gputel query, lease, report,
// token, flag), so each refuses them alike (exit 64, nothing done).

/**
 * The usage problem of a command given more operands than it takes (`what` says what it takes,
 * e.g. "import takes one FILE"), or undefined. Acting on the first alone would leave the rest
 * undone while saying done (`gputel token revoke A B` kept B valid), so nothing is done.
 */
export function extraOperands(operands: readonly string[], takes: number, what: string): string | undefined {
  const extra = operands.slice(takes);
  if (extra.length === 0) return undefined;
  return `${what} (also given: ${extra.map((o) => JSON.stringify(o)).join(" ")}); nothing was done`;
}
