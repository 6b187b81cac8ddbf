// Which names a query accepts: the `--help-query-*` text lists each field as `"name"` or
// `"name" or "alias"` on a line of its own. The real tool answers an alias under its first
// (canonical) name, so a catalogue maps every spelling to that name. Pure.

export interface FieldCatalogue {
  /** Canonical names in help order. */
  readonly names: readonly string[];
  /** Canonical name for any accepted spelling; undefined when the driver does not know the field. */
  resolve(name: string): string | undefined;
}

export interface FieldHelp {
  names: readonly string[];
  description: string;
}

const FIELD_LINE = /^"[^"]+"( or "[^"]+")*$/;

export function catalogue(entries: readonly (readonly string[])[]): FieldCatalogue {
  const canonical: string[] = [];
  const byName = new Map<string, string>();
  for (const names of entries) {
    const first = names[0];
    if (first === undefined) continue;
    if (!byName.has(first)) canonical.push(first);
    for (const name of names) if (!byName.has(name)) byName.set(name, first);
  }
  return { names: canonical, resolve: (name) => byName.get(name) };
}

/** Reads the field names out of `nvidia-smi --help-query-gpu` (or -compute-apps) output. */
export function parseFieldHelp(text: string): FieldCatalogue {
  const entries: string[][] = [];
  for (const line of text.split("\n")) {
    // A description can start with a quoted word ("0: Default" means ...): only whole lines count.
    if (!FIELD_LINE.test(line)) continue;
    entries.push([...line.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ""));
  }
  return catalogue(entries);
}

/** Renders help text in the real tool's layout, for scenario mode. */
export function renderFieldHelp(switchName: string, fields: readonly FieldHelp[]): string {
  const lines = [`List of valid properties to query for the switch "${switchName}":`, ""];
  for (const field of fields) {
    lines.push(field.names.map((n) => `"${n}"`).join(" or "), field.description, "");
  }
  return `${lines.join("\n")}\n`;
}

/** The real tool's answer to an unknown field (stdout, exit 2). */
export function invalidFieldMessage(name: string): string {
  return `Field "${name}" is not a valid field to query.\n\n`;
}

export const INVALID_FIELD_EXIT = 2;
