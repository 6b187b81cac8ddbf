// Module hooks for ts-worker-loader.mjs: a relative "./x.js" import from a .ts file resolves to
// "./x.ts" when only that exists (the sources' ESM spelling), and .ts is compiled by esbuild
// (vite's own compiler, present wherever vitest is).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith(".ts") && specifier.startsWith(".") && specifier.endsWith(".js")) {
    const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(ts))
      return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const source = await readFile(fileURLToPath(url), "utf8");
  const out = await transform(source, { loader: "ts", format: "esm", sourcefile: fileURLToPath(url) });
  return { format: "module", source: out.code, shortCircuit: true };
}
