// Loads one program's configuration: defaults < YAML file < GPUTEL_* environment < command line.
// Every problem is collected with its key path; nothing is thrown for a bad value.
import { accessSync, constants, readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import type { Static, TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseDocument } from "yaml";
import { hasCredentials } from "../mask.js";
import {
  type ConfigKey,
  configKeys,
  envOverrides,
  findKey,
  getPath,
  type Override,
  setPath,
} from "./keys.js";
import type { ConfigProblem } from "./problems.js";
import { fractionProblems, schemaProblems } from "./schema-problems.js";
import { resolveSecrets, type SecretSpec } from "./secrets.js";
import { keepWrittenStrings, yamlAsWritten } from "./written-strings.js";

type Tree = Record<string, unknown>;

export interface DefaultsContext {
  env: NodeJS.ProcessEnv;
  hostname: string;
}

/** systemd may pass several state directories separated by ':'; the first is ours. */
export function stateDirectoryDefault(env: NodeJS.ProcessEnv, fallback: string): string {
  return env.STATE_DIRECTORY?.split(":")[0] || fallback;
}

export interface ConfigSpec<S extends TObject> {
  program: "agent" | "collector";
  /** Read when no --config is given; a missing default file means "defaults only". */
  defaultFile: string;
  /** Defaults that depend on the machine (hostname, $STATE_DIRECTORY) come from the context. */
  schema(ctx: DefaultsContext): S;
  secrets: readonly SecretSpec[];
  /** Derived defaults (broker.username = host), applied after validation. */
  finish?(config: Static<S>): void;
  /** Checks across keys, on a structurally valid config. */
  check?(config: Static<S>): ConfigProblem[];
}

export interface LoadOptions {
  /** --config FILE: must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line values keyed by dotted path ("broker.url", "labels.rack"); they win over all. */
  overrides?: Readonly<Record<string, unknown>>;
  hostname?: string;
  /** Read password/token files and systemd credentials, check *_file keys are readable (default true). */
  touchFiles?: boolean;
  /** Credential values by name ("mqtt_password") standing in for $CREDENTIALS_DIRECTORY (the installer's check). */
  credentials?: Readonly<Record<string, string>>;
}

export type LoadResult<T> =
  | { ok: true; config: T; file: string | undefined; sources: ReadonlyMap<string, string> }
  | { ok: false; problems: ConfigProblem[]; file: string | undefined };

function readFile(
  spec: { defaultFile: string },
  options: LoadOptions,
): { text?: string; file?: string; problem?: ConfigProblem } {
  const file = options.file ?? spec.defaultFile;
  try {
    return { text: readFileSync(file, "utf8"), file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.file === undefined && code === "ENOENT") return {};
    return {
      file,
      problem: { path: "", message: `cannot read ${file}: ${code ?? (error as Error).message}` },
    };
  }
}

function parseYamlFile(
  text: string,
  file: string,
): { root: Record<string, unknown>; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      root: {},
      problems: doc.errors.map((e) => ({ path: "", message: `${file}: ${e.message.split("\n")[0]}` })),
    };
  }
  const root: unknown = doc.toJS() ?? {};
  if (typeof root !== "object" || Array.isArray(root) || root === null) {
    return {
      root: {},
      problems: [{ path: "", message: `${file}: the top level must be a mapping of keys` }],
    };
  }
  return { root: root as Record<string, unknown>, problems: [] };
}

function cliOverrides(
  keys: readonly ConfigKey[],
  overrides: Readonly<Record<string, unknown>>,
): { list: Override[]; problems: ConfigProblem[] } {
  const list: Override[] = [];
  const problems: ConfigProblem[] = [];
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const key = findKey(keys, path);
    if (!key) problems.push({ path, message: "unknown key", source: "command line" });
    else if (key.secret) {
      problems.push({
        path,
        message:
          "secrets are not accepted on the command line (they would show in ps); use the *_file key, a GPUTEL_* variable, the config file or a systemd credential",
        source: "command line",
      });
    } else if (
      (Array.isArray(value) ? value : [value]).some((v) => typeof v === "string" && hasCredentials(v))
    ) {
      problems.push({
        path,
        message:
          "a URL with a password or token is not accepted on the command line (ps would show it); put the URL in the config file or a GPUTEL_* variable, or the password in its *_file key or a systemd credential",
        source: "command line",
      });
    } else list.push({ segments: path.split("."), path, value, source: "command line" });
  }
  return { list, problems };
}

/** Names that reach an object's prototype when used as a key: never a configuration key. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Own keys named like the prototype, anywhere in `value` (YAML defines `__proto__` as an own key). */
function prototypeKeyProblems(value: unknown, path: string, source?: string): ConfigProblem[] {
  if (value === null || typeof value !== "object") return [];
  const problems: ConfigProblem[] = [];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v] as const)
    : Object.keys(value).map((k) => {
        const child = path === "" ? k : `${path}.${k}`;
        if (PROTOTYPE_KEYS.has(k))
          problems.push({
            path: child,
            message: `${JSON.stringify(k)} cannot be a key (it names the object prototype)`,
            ...(source ? { source } : {}),
          });
        return [child, Object.getOwnPropertyDescriptor(value, k)?.value] as const;
      });
  for (const [child, v] of entries) problems.push(...prototypeKeyProblems(v, child, source));
  return problems;
}

function sourceOf(sources: ReadonlyMap<string, string>, path: string): string | undefined {
  for (let p = path; p !== ""; p = p.replace(/(\.[^.[]*|\[\d+\])$/, "")) {
    const source = sources.get(p);
    if (source) return source;
    if (!/[.[]/.test(p)) break;
  }
  return undefined;
}

/** Every *_file key that is set must name a readable file (secrets are read separately). */
function fileProblems(
  keys: readonly ConfigKey[],
  config: unknown,
  secrets: readonly SecretSpec[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const key of keys) {
    if (!key.path.endsWith("_file") || secrets.some((s) => s.file === key.path)) continue;
    const value = getPath(config, key.segments);
    if (typeof value !== "string") continue;
    try {
      accessSync(value, constants.R_OK);
    } catch (error) {
      problems.push({
        path: key.path,
        message: `cannot read ${value}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      });
    }
  }
  return problems;
}

export function loadConfig<S extends TObject>(
  spec: ConfigSpec<S>,
  options: LoadOptions = {},
): LoadResult<Static<S>> {
  const env = options.env ?? process.env;
  const schema = spec.schema({ env, hostname: options.hostname ?? osHostname() });
  const keys = configKeys(schema);
  const { text, file, problem } = readFile(spec, options);
  if (problem) return { ok: false, problems: [problem], file };

  const parsed = text === undefined ? { root: {}, problems: [] } : parseYamlFile(text, file ?? "");
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems, file };
  const root =
    text === undefined ? parsed.root : (keepWrittenStrings(schema, parsed.root, yamlAsWritten(text)) as Tree);
  const keyProblems = prototypeKeyProblems(root, "");

  const sources = new Map<string, string>();
  const fromEnv = envOverrides(keys, env);
  const fromCli = cliOverrides(keys, options.overrides ?? {});
  for (const o of [...fromEnv.overrides, ...fromCli.list]) {
    const named = o.segments.filter((seg) => PROTOTYPE_KEYS.has(seg));
    keyProblems.push(
      ...named.map((k) => ({
        path: o.path,
        message: `${JSON.stringify(k)} cannot be a key (it names the object prototype)`,
        source: o.source,
      })),
      ...prototypeKeyProblems(o.value, o.path, o.source),
    );
  }
  // Before anything is assigned: a `__proto__` key would set an object's prototype.
  if (keyProblems.length > 0) return { ok: false, problems: keyProblems, file };
  for (const o of [...fromEnv.overrides, ...fromCli.list]) {
    setPath(root, o.segments, o.value);
    sources.set(o.path, o.source);
  }
  const problems: ConfigProblem[] = [...fromEnv.problems, ...fromCli.problems];

  const defaulted = Value.Default(schema, root);
  const fractions = fractionProblems(schema, defaulted);
  const value = Value.Convert(schema, defaulted);
  for (const p of [...fractions, ...schemaProblems(schema, value)])
    if (!problems.some((q) => q.path === p.path)) problems.push({ ...p, source: sourceOf(sources, p.path) });
  if (problems.length > 0) return { ok: false, problems, file };

  const config = value as Static<S>;
  const touchFiles = options.touchFiles ?? true;
  if (touchFiles) {
    problems.push(...resolveSecrets(config, spec.secrets, env), ...fileProblems(keys, config, spec.secrets));
  }
  for (const secret of spec.secrets) {
    const provided = options.credentials?.[secret.credential];
    const segments = secret.path.split(".");
    if (provided !== undefined && getPath(config, segments) === undefined)
      setPath(config as Record<string, unknown>, segments, provided);
  }
  spec.finish?.(config);
  for (const p of spec.check?.(config) ?? [])
    problems.push({ ...p, source: p.source ?? sourceOf(sources, p.path) });
  return problems.length > 0 ? { ok: false, problems, file } : { ok: true, config, file, sources };
}
