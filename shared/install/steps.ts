// Install steps as data: planned by plan.ts (pure), printed and carried out by execute.ts.
import { isAbsolute, join } from "node:path";

export type Step =
  | { kind: "mkdir"; path: string; mode: number }
  | { kind: "write"; path: string; content: string; mode: number; secret?: boolean }
  | { kind: "remove"; path: string; recursive?: boolean }
  /** A command; `unless` is a command whose success means the step is already done. */
  | { kind: "run"; argv: string[]; unless?: string[] };

const octal = (mode: number) => `0${mode.toString(8)}`;

/** The line printed for a step (contents of secrets are never printed). */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "mkdir":
      return `mkdir -p -m ${octal(step.mode)} ${step.path}`;
    case "write":
      return `write ${step.path} (mode ${octal(step.mode)}${step.secret ? ", secret" : `, ${step.content.split("\n").length - 1} lines`})`;
    case "remove":
      return `remove ${step.recursive ? "-r " : ""}${step.path}`;
    case "run":
      return `run ${step.argv.join(" ")}${step.unless ? `   (unless ${step.unless.join(" ")} succeeds)` : ""}`;
  }
}

/** A target path under --root ("/" leaves it as is). */
export function underRoot(root: string, path: string): string {
  if (!isAbsolute(path)) throw new RangeError(`install paths are absolute: ${path}`);
  return root === "/" ? path : join(root, path);
}
