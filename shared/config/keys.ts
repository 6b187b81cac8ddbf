// The key paths of a configuration schema, and the environment variable that overrides each.
// Naming rule: GPUTEL_ + the path's segments joined by "_" and upper-cased
// (broker.url → GPUTEL_BROKER_URL, flags.idle.duration → GPUTEL_FLAGS_IDLE_DURATION).
// Objects are walked into; everything else (scalars, lists, maps) is one key set as a whole.
import type { TSchema } from "@sinclair/typebox";
import { parse as parseYaml } from "yaml";
import type { ConfigProblem } from "./problems.js";
import { keepWrittenStrings, yamlAsWritten } from "./written-strings.js";

export interface ConfigKey {
  segments: string[];
  /** "broker.url" */
  path: string;
  /** "GPUTEL_BROKER_URL" */
  env: string;
  schema: TSchema;
  /** A map such as `labels`: one more path segment names an entry ("labels.rack"). */
  isMap: boolean;
  /** Plain strings are taken from the environment verbatim (a password "0123" stays "0123"). */
  isString: boolean;
  secret: boolean;
}

export const ENV_PREFIX = "GPUTEL_";

export function envName(segments: readonly string[]): string {
  return ENV_PREFIX + segments.join("_").toUpperCase();
}

function isObjectSchema(schema: TSchema): schema is TSchema & { properties: Record<string, TSchema> } {
  return schema.type === "object" && typeof schema.properties === "object" && schema.properties !== null;
}

export function configKeys(schema: TSchema, prefix: string[] = []): ConfigKey[] {
  if (isObjectSchema(schema) && (prefix.length === 0 || Object.keys(schema.properties).length > 0)) {
    return Object.entries(schema.properties).flatMap(([name, child]) => configKeys(child, [...prefix, name]));
  }
  return [
    {
      segments: prefix,
      path: prefix.join("."),
      env: envName(prefix),
      schema,
      isMap: schema.type === "object" && schema.patternProperties !== undefined,
      isString: schema.type === "string",
      secret: schema.secret === true,
    },
  ];
}

/** The key a dotted path names: a key itself, or an entry of a map key. */
export function findKey(keys: readonly ConfigKey[], path: string): ConfigKey | undefined {
  const exact = keys.find((k) => k.path === path);
  if (exact) return exact;
  return keys.find(
    (k) => k.isMap && path.startsWith(`${k.path}.`) && !path.slice(k.path.length + 1).includes("."),
  );
}

export interface Override {
  segments: string[];
  path: string;
  value: unknown;
  source: string;
}

/**
 * Overrides from GPUTEL_* variables. Values are read as YAML scalars or flow collections
 * (`5`, `true`, `[a, b]`, `{rack: r1}`) except for plain string keys; where the schema wants a
 * string inside them (`{rack: 07}`), it is kept as written. Empty variables count as unset.
 * Variables that name no key are ignored: GPUTEL_* is shared with test and tool switches.
 */
export function envOverrides(
  keys: readonly ConfigKey[],
  env: NodeJS.ProcessEnv,
): { overrides: Override[]; problems: ConfigProblem[] } {
  const overrides: Override[] = [];
  const problems: ConfigProblem[] = [];
  for (const key of keys) {
    const raw = env[key.env];
    if (raw === undefined || raw === "") continue;
    if (key.isString) {
      overrides.push({ segments: key.segments, path: key.path, value: raw, source: key.env });
      continue;
    }
    try {
      const value = keepWrittenStrings(key.schema, parseYaml(raw), yamlAsWritten(raw));
      overrides.push({ segments: key.segments, path: key.path, value, source: key.env });
    } catch (error) {
      problems.push({
        path: key.path,
        message: `cannot read ${JSON.stringify(raw)} as a YAML value: ${(error as Error).message.split("\n")[0]}`,
        source: key.env,
      });
    }
  }
  return { overrides, problems };
}

export function getPath(root: unknown, segments: readonly string[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** Sets a value, creating (or replacing non-object) intermediate objects. */
export function setPath(root: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = root;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  });
}
