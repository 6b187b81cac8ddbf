// YAML reads `password: 0123` as the number 123, `rack: 07` as 7 and `version: 1.10` as 1.1; the
// schema's conversion would then store "123", "7" and "1.1". Where the schema wants a string, the
// scalar is kept as written (from a second, all-strings reading of the same text).
import type { TSchema } from "@sinclair/typebox";
import { parse } from "yaml";

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The schema of a child key: a property, or the value schema of a map such as `labels`. */
function childSchema(schema: TSchema, key: string): TSchema | undefined {
  const properties = schema.properties as Record<string, TSchema> | undefined;
  if (properties && Object.hasOwn(properties, key)) return properties[key];
  const patterns = schema.patternProperties as Record<string, TSchema> | undefined;
  return patterns ? Object.values(patterns)[0] : undefined;
}

/**
 * `value` (YAML's usual reading) with every number or boolean that stands where `schema` wants a
 * string replaced by `written`'s text for it. Objects and arrays are changed in place.
 */
export function keepWrittenStrings(schema: TSchema, value: unknown, written: unknown): unknown {
  if (schema.type === "string")
    return typeof value !== "string" && typeof value !== "object" && typeof written === "string"
      ? written
      : value;
  if (Array.isArray(value) && Array.isArray(written) && schema.items) {
    value.forEach((item, i) => {
      value[i] = keepWrittenStrings(schema.items as TSchema, item, written[i]);
    });
  } else if (isTree(value) && isTree(written)) {
    for (const key of Object.keys(value)) {
      const child = childSchema(schema, key);
      const kept = child ? keepWrittenStrings(child, value[key], written[key]) : value[key];
      if (kept !== value[key]) value[key] = kept;
    }
  }
  return value;
}

/** The text read as YAML with every scalar a string (the failsafe schema). */
export function yamlAsWritten(text: string): unknown {
  try {
    return parse(text, { schema: "failsafe" });
  } catch {
    return undefined;
  }
}
