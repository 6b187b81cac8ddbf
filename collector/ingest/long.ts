// protobufjs decodes 64-bit fields to Long objects whenever the `long` package is installed (it is,
// as a dependency of protobufjs), although the generated types say `number`. Ingest turns them into
// numbers in place, so storage and the range checks see what the types promise. Values beyond
// 2^53 lose precision here and then fail the range or safe-integer checks.

interface LongLike {
  toNumber(): number;
}

function isLong(value: unknown): value is LongLike {
  return (
    typeof value === "object" && value !== null && typeof (value as Partial<LongLike>).toNumber === "function"
  );
}

export function longToNumber(value: unknown): unknown {
  return isLong(value) ? value.toNumber() : value;
}

/** Replaces the named 64-bit fields of a decoded message by numbers. */
export function normalizeLongs<T extends object>(
  message: T | null | undefined,
  keys: readonly (keyof T)[],
): void {
  if (!message) return;
  const record = message as Record<keyof T, unknown>;
  for (const key of keys) {
    const value = record[key];
    if (isLong(value)) record[key] = value.toNumber();
  }
}
