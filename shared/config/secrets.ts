// Secrets (MQTT password, API token) come from the config file, a GPUTEL_* variable, a file
// named by a *_file key, or a systemd credential ($CREDENTIALS_DIRECTORY/<name>, LoadCredential=);
// never from the command line alone, where `ps` would show them (load.ts refuses that).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getPath, setPath } from "./keys.js";
import type { ConfigProblem } from "./problems.js";

export interface SecretSpec {
  /** "broker.password" */
  path: string;
  /** "broker.password_file" */
  file: string;
  /** systemd credential name: "mqtt_password", "api_token". */
  credential: string;
}

/** File contents without one trailing newline (what `echo secret > file` adds). */
export function readSecretFile(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}

/**
 * Fills each secret in place. Precedence: the value itself (file or environment), else its
 * *_file, else the systemd credential. Setting both the value and its file is a mistake.
 */
export function resolveSecrets(
  config: unknown,
  specs: readonly SecretSpec[],
  env: NodeJS.ProcessEnv,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const root = config as Record<string, unknown>;
  for (const spec of specs) {
    const segments = spec.path.split(".");
    const value = getPath(root, segments);
    const file = getPath(root, spec.file.split("."));
    if (value !== undefined && file !== undefined) {
      problems.push({ path: spec.file, message: `set either ${spec.path} or ${spec.file}, not both` });
      continue;
    }
    let secret: string | undefined;
    let from = "";
    if (typeof file === "string") {
      from = file;
    } else if (value === undefined && env.CREDENTIALS_DIRECTORY) {
      const candidate = join(env.CREDENTIALS_DIRECTORY, spec.credential);
      try {
        secret = readSecretFile(candidate);
        from = candidate;
      } catch {
        continue; // no such credential: the secret stays unset
      }
    } else continue;
    try {
      secret ??= readSecretFile(from);
    } catch (error) {
      problems.push({
        path: spec.file,
        message: `cannot read ${from}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      });
      continue;
    }
    if (secret === "")
      problems.push({ path: typeof file === "string" ? spec.file : spec.path, message: `${from} is empty` });
    else setPath(root, segments, secret);
  }
  return problems;
}
