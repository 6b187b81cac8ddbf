// Type-checks values against the TypeScript types a registry package publishes for a schema
// (Grafana's dashboard, Kubernetes objects): each value is written as an object literal of the
// type and compiled by tsc --strict, so wrong types, missing required fields and unknown keys
// (excess property checks) are errors. The files go under the checkout's .tmp/ so that tsc
// resolves the packages from node_modules.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./cli.js";

const exec = promisify(execFile);

export interface TypedValue {
  /** File base name, shown in tsc's messages. */
  name: string;
  /** `import type { <type> } from "<from>"`. */
  type: string;
  from: string;
  value: unknown;
}

/** tsc's exit code and messages ("" when every value type-checks). */
export async function typecheckValues(values: readonly TypedValue[]): Promise<{ code: number; out: string }> {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "typecheck-"));
  try {
    const files = values.map((v) => {
      const file = join(dir, `${v.name}.ts`);
      writeFileSync(
        file,
        `import type { ${v.type} } from "${v.from}";\nexport const value: ${v.type} = ${JSON.stringify(v.value, null, 2)};\n`,
      );
      return file;
    });
    const args = [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "--noEmit",
      "--strict",
      "--exactOptionalPropertyTypes",
      "--skipLibCheck",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      ...files,
    ];
    return await exec(process.execPath, args, { cwd: ROOT }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? 1, out: e.stdout ?? "" }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
