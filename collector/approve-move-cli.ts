// `gputel collector approve-move UUID --to HOST`: an operator approves a GPU's move to another
// host (after a gpu-claim-conflict flag), written into the collector's database. The next claim
// from that host is accepted and recorded in the GPU's inventory history as "approved".
import { parseArgs } from "node:util";
import { EX_CONFIG, formatProblems } from "../shared/config/problems.js";
import { errorMessage } from "../shared/errors.js";
import { isValidGpuUuid } from "../shared/gpu-id.js";
import { isValidHostId } from "../shared/topics.js";
import { loadCollectorConfig } from "./config.js";
import { approveGpuMove } from "./store/approvals.js";

export const APPROVE_MOVE_USAGE = `Usage: gputel collector approve-move UUID --to HOST [--config FILE] [--database FILE]

Approves the move of GPU UUID to HOST: HOST's next report of the GPU is accepted even though the
GPU's current host is still live and lists it (see the gpu-claim-conflict flag). Writes into the
collector's database, so it needs write access to it (run it as the collector's user or root).
`;

const OPTIONS = {
  to: { type: "string" },
  config: { type: "string", short: "c" },
  database: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function approveMoveCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    process.stderr.write(
      `gputel collector approve-move: ${errorMessage(error)} (GPUTEL_E_USAGE)\n\n${APPROVE_MOVE_USAGE}`,
    );
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(APPROVE_MOVE_USAGE);
    return 0;
  }
  const [uuid, ...extra] = positionals;
  const problem =
    uuid === undefined || extra.length > 0
      ? "expected exactly one GPU UUID"
      : !isValidGpuUuid(uuid)
        ? `${JSON.stringify(uuid)} is not a GPU UUID`
        : values.to === undefined
          ? "--to HOST is required"
          : !isValidHostId(values.to)
            ? `--to: ${JSON.stringify(values.to)} is not a host id`
            : undefined;
  if (problem || uuid === undefined || values.to === undefined) {
    process.stderr.write(
      `gputel collector approve-move: ${problem} (GPUTEL_E_USAGE)\n\n${APPROVE_MOVE_USAGE}`,
    );
    return 64;
  }
  const loaded = loadCollectorConfig({
    file: values.config,
    overrides: values.database !== undefined ? { database: values.database } : {},
  });
  if (!loaded.ok) {
    process.stderr.write(formatProblems("collector", loaded.file, loaded.problems));
    return EX_CONFIG;
  }
  try {
    const { owner } = approveGpuMove(loaded.config.database, uuid, values.to, Date.now());
    const from =
      owner === undefined ? "not seen yet" : owner === values.to ? `already on ${owner}` : `now on ${owner}`;
    process.stdout.write(`Approved: GPU ${uuid} may move to ${values.to} (${from}).\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`gputel collector approve-move: ${errorMessage(error)}\n`);
    return 1;
  }
}
