// `pmon`: the header once, then one interval every `-d` seconds (first at once), `-c` times or
// until killed. Values come from the backend's per-process view of the moment.
import type { Backend } from "./backend.js";
import type { EngineIo } from "./engine.js";
import { parseSelect, pmonHeader, pmonRow } from "./pmon-format.js";
import type { SmiCommand } from "./smi-args.js";

type PmonCommand = Extract<SmiCommand, { kind: "pmon" }>;

/** Exit code of nvidia-smi for an invalid argument value. */
const INVALID_ARGUMENT_EXIT = 2;

export async function runPmon(
  command: PmonCommand,
  backend: Backend,
  io: EngineIo,
  selectGpus: (ids: readonly string[] | undefined) => Set<number> | undefined,
): Promise<number> {
  const groups = parseSelect(command.select);
  const pmon = backend.pmon;
  if (groups === undefined || pmon === undefined) return INVALID_ARGUMENT_EXIT;
  const selected = selectGpus(command.ids);
  if (selected === undefined) return INVALID_ARGUMENT_EXIT;
  const started = io.now();
  let header = pmonHeader(groups);
  for (let tick = 0; command.count === undefined || tick < command.count; tick++) {
    if (tick > 0) {
      const next = started + tick * command.delayS * 1000;
      await io.sleep(Math.max(0, next - io.now()), io.signal);
      if (io.signal.aborted) return 0;
    }
    const lines = pmon(io.now()).filter((l) => selected.has(l.gpuIndex));
    io.write(header + lines.map((l) => pmonRow(l, groups)).join(""));
    header = "";
  }
  return 0;
}
