// What a peer's JSON answer must hold before a merge reads it. A peer URL may answer something
// other than a gputel collector's answer (another program on that port, a proxy's JSON error page,
// a collector of another version): such an answer makes the peer missing, with the first field that
// does not fit, rather than a merge that throws and fails the whole request. Only what the merges
// read is described; other fields pass unchecked.

/** "string?" and "number?" also take null. */
export type Shape =
  | "string"
  | "number"
  | "boolean"
  | "string?"
  | "number?"
  | { readonly list: Shape; readonly orNull?: true }
  | { readonly fields: Readonly<Record<string, Shape>> };

/** Where `value` does not fit `shape` ("gpus[3].uuid: not a string"), or undefined when it fits. */
export function misfit(value: unknown, shape: Shape, at = "answer"): string | undefined {
  if (typeof shape === "string") {
    if (value === null && shape.endsWith("?")) return undefined;
    const type = shape.replace("?", "");
    const fits =
      type === "number" ? typeof value === "number" && Number.isFinite(value) : typeof value === type;
    return fits ? undefined : `${at}: not a ${type}${shape.endsWith("?") ? " or null" : ""}`;
  }
  if ("list" in shape) {
    if (value === null && shape.orNull) return undefined;
    if (!Array.isArray(value)) return `${at}: not a list`;
    for (let i = 0; i < value.length; i++) {
      const wrong = misfit(value[i], shape.list, `${at}[${i}]`);
      if (wrong !== undefined) return wrong;
    }
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return `${at}: not an object`;
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(shape.fields)) {
    const wrong = misfit(Object.hasOwn(record, key) ? record[key] : undefined, field, `${at}.${key}`);
    if (wrong !== undefined) return wrong;
  }
  return undefined;
}
