// Turns TypeBox validation errors into messages an operator can act on, one per key path.
import type { TSchema } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { formatMessage } from "./formats.js";
import { type ConfigProblem, pointerToPath } from "./problems.js";

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function literals(schema: TSchema): unknown[] | undefined {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (!Array.isArray(anyOf) || !anyOf.every((s) => "const" in s)) return undefined;
  return anyOf.map((s) => s.const);
}

function describe(type: ValueErrorType, schema: TSchema, value: unknown, fallback: string): string {
  if (type === ValueErrorType.ObjectAdditionalProperties) return "unknown key";
  if (type === ValueErrorType.StringFormat) return formatMessage(String(schema.format), value) ?? fallback;
  if (type === ValueErrorType.ObjectRequiredProperty) return "is required";
  const choices = literals(schema);
  if (choices)
    return `must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${show(value)}`;
  switch (schema.type) {
    case "integer":
    case "number": {
      const kind = schema.type === "integer" ? "a whole number" : "a number";
      const bounds = [
        schema.minimum !== undefined ? `≥ ${schema.minimum}` : "",
        schema.maximum !== undefined ? `≤ ${schema.maximum}` : "",
      ].filter(Boolean);
      return `must be ${kind}${bounds.length ? ` ${bounds.join(" and ")}` : ""}, got ${show(value)}`;
    }
    case "boolean":
      return `must be true or false, got ${show(value)}`;
    case "string":
      return `must be a string, got ${show(value)}`;
    case "array":
      return schema.minItems && Array.isArray(value)
        ? `needs at least ${schema.minItems} entries`
        : `must be a list, got ${show(value)}`;
    case "object":
      return `must be a mapping of keys, got ${show(value)}`;
    default:
      return `${fallback.charAt(0).toLowerCase()}${fallback.slice(1)}, got ${show(value)}`;
  }
}

/** One problem per key path (the first error TypeBox reports for it), in document order. */
export function schemaProblems(schema: TSchema, value: unknown): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(error.path);
    // A child's error already explains its parent's (a union or object that failed because of it).
    if (seen.has(path) || [...seen].some((p) => p.startsWith(`${path}.`) || p.startsWith(`${path}[`)))
      continue;
    seen.add(path);
    problems.push({ path, message: describe(error.type, error.schema, error.value, error.message) });
  }
  return problems;
}

/**
 * Fractions where a whole number is wanted, found before Value.Convert (which truncates 1.5 to
 * 1 for an integer key, so the problem would never show): one problem per key path.
 */
export function fractionProblems(schema: TSchema, value: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    if (error.schema.type !== "integer" || typeof error.value !== "number" || !Number.isFinite(error.value))
      continue;
    const path = pointerToPath(error.path);
    if (problems.some((p) => p.path === path)) continue;
    problems.push({ path, message: describe(error.type, error.schema, error.value, error.message) });
  }
  return problems;
}
