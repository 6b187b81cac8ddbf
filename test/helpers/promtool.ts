// `promtool check metrics` (Debian's prometheus package) on an exposition text: its complaints
// (naming, types, grammar) and its exit status.
import { execFile } from "node:child_process";

export const PROMTOOL = process.env.GPUTEL_PROMTOOL ?? "/usr/bin/promtool";

export function checkMetrics(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ["check", "metrics"], (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end(text);
  });
}
