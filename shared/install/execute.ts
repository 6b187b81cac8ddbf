// Carries out install steps. Every step is printed first. Under --root DIR (not "/") files go
// below DIR and commands are printed, not run: they would act on this machine, not on DIR.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describeStep, type Step, underRoot } from "./steps.js";

export interface ExecuteOptions {
  root: string;
  dryRun: boolean;
  print: (line: string) => void;
  /** Runs a command; returns its exit status (tests may substitute). */
  run?: (argv: string[]) => number;
}

function defaultRun(argv: string[]): number {
  const [command = "", ...args] = argv;
  const result = spawnSync(command, args, { stdio: "inherit" });
  return result.error ? 127 : (result.status ?? 1);
}

/** Returns 0, or the failing step's status (after printing what failed). */
export function executeSteps(steps: readonly Step[], options: ExecuteOptions): number {
  const run = options.run ?? defaultRun;
  const commands = options.root === "/";
  for (const step of steps) {
    const line = describeStep(step);
    if (options.dryRun) {
      options.print(`would ${line}${step.kind === "run" && !commands ? "   [not run under --root]" : ""}`);
      continue;
    }
    if (step.kind === "run") {
      if (!commands) {
        options.print(`skip ${line}   [not run under --root]`);
        continue;
      }
      if (step.unless && run(step.unless) === 0) {
        options.print(`done ${line}   [already]`);
        continue;
      }
      options.print(line);
      const status = run(step.argv);
      if (status !== 0) {
        options.print(`failed (status ${status}): ${step.argv.join(" ")}`);
        return status;
      }
      continue;
    }
    options.print(line);
    const target = underRoot(options.root, step.path);
    if (step.kind === "mkdir") {
      mkdirSync(target, { recursive: true, mode: step.mode });
      chmodSync(target, step.mode);
    } else if (step.kind === "write") {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, step.content, { mode: step.mode });
      chmodSync(target, step.mode);
    } else {
      rmSync(target, { recursive: step.recursive ?? false, force: true });
    }
  }
  return 0;
}
