// No import cycles between folders: a folder's files may import each other freely, but the graph
// of folder → folder imports must be acyclic, so each folder can be read (and changed) knowing only
// the folders below it. A folder is a program folder's own files (collector/*.ts) or one of its
// subfolders (collector/api); a deeper folder counts as the component it sits in
// (agent/sources/nvidia-smi is part of agent/sources, collector/flags/rules of collector/flags).
import { posix } from "node:path";
import { describe, expect, it } from "vitest";
import { relativeImports, sourceFiles } from "./source-tree.js";

type Graph = Map<string, Map<string, string>>;

function componentOf(path: string): string {
  return posix.dirname(path).split("/").slice(0, 2).join("/");
}

/** Folder → imported folder, each edge with one file import that makes it (for the message). */
function folderGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles()) {
    const from = componentOf(file.path);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const target of relativeImports(file)) {
      const to = componentOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${file.path} → ${target}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

function describeCycle(graph: Graph, component: string[]): string {
  const inside = new Set(component);
  const edges: string[] = [];
  for (const from of component)
    for (const [to, via] of graph.get(from) ?? []) if (inside.has(to)) edges.push(`  ${via}`);
  return `${component.join(" ↔ ")}\n${edges.join("\n")}`;
}

describe("folder import graph", () => {
  it("has no cycle between folders", () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(20);
    expect(cycles(graph).map((c) => describeCycle(graph, c))).toEqual([]);
  });

  it("counts a deeper folder as the component it sits in", () => {
    expect(componentOf("agent/sources/nvidia-smi/runner.ts")).toBe("agent/sources");
    expect(componentOf("collector/api/server.ts")).toBe("collector/api");
    expect(componentOf("collector/run.ts")).toBe("collector");
  });

  it("finds a cycle when there is one", () => {
    const graph: Graph = new Map([
      ["a", new Map([["b", "a/x.ts → b/y.ts"]])],
      ["b", new Map([["c", "b/y.ts → c/z.ts"]])],
      ["c", new Map([["a", "c/z.ts → a/x.ts"]])],
      ["d", new Map([["a", "d/w.ts → a/x.ts"]])],
    ]);
    expect(cycles(graph)).toEqual([["a", "b", "c"]]);
  });
});
