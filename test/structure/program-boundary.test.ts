// The agent and the collector are two programs over one core (docs/design.md §2): neither imports
// the other; what both need lives in shared/. Only the CLI dispatcher (cli/) and the mock tools may
// reach into both.
import { describe, expect, it } from "vitest";
import { relativeImports, sourceFiles } from "./source-tree.js";

const PROGRAMS = ["agent", "collector"] as const;

function programOf(path: string): string | undefined {
  return PROGRAMS.find((program) => path.startsWith(`${program}/`));
}

describe("program boundary", () => {
  it("agent/ never imports collector/ and collector/ never imports agent/", () => {
    const crossings: string[] = [];
    for (const file of sourceFiles()) {
      const from = programOf(file.path);
      if (!from) continue;
      for (const target of relativeImports(file)) {
        const to = programOf(target);
        if (to && to !== from) crossings.push(`${file.path} → ${target}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it("shared/ imports neither program", () => {
    const crossings = sourceFiles()
      .filter((file) => file.path.startsWith("shared/"))
      .flatMap((file) =>
        relativeImports(file)
          .filter((t) => programOf(t))
          .map((t) => `${file.path} → ${t}`),
      );
    expect(crossings).toEqual([]);
  });
});
