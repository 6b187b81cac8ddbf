// Reads the program sources (not tests, bench or generated code) for the structure tests.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The folders that make up the programs (agent, collector, the CLI, mock-smi and what they share). */
export const SOURCE_ROOTS = ["agent", "cli", "collector", "mock-smi", "shared"] as const;

export interface SourceFile {
  /** Path from the repository root, with forward slashes. */
  path: string;
  text: string;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(full);
  }
}

export function sourceFiles(): SourceFile[] {
  const files: string[] = [];
  for (const root of SOURCE_ROOTS) walk(join(ROOT, root), files);
  return files.sort().map((full) => ({
    path: relative(ROOT, full).split(sep).join("/"),
    text: readFileSync(full, "utf8"),
  }));
}

/**
 * The repository-relative targets of a file's relative imports and re-exports (static, dynamic and
 * type-only alike: a type import is a dependency too). `.js` specifiers name the `.ts` source.
 */
export function relativeImports(file: SourceFile): string[] {
  const info = ts.preProcessFile(file.text, true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => posix.normalize(posix.join(posix.dirname(file.path), name)).replace(/\.js$/, ".ts"));
}
