// Reads a lease import file (CSV with a header row, or YAML: a list of mappings, or `leases:`
// holding one) into records that keep their line number, so every error — here or from the
// collector — names the line and the field. The field names are the API's (docs/leases.md).
import { isMap, isSeq, LineCounter, parseDocument, visit } from "yaml";
import { FIELD_NAMES } from "../../collector/leases/model.js";
import type { ImportRecord } from "../../collector/leases/service.js";
import { UsageError } from "./run-api-cli.js";

/** Lease data refused before it is sent (an import file, a `--label`): exit 65, as the collector's refusals. */
export class LeaseDataError extends Error {}

/**
 * A label key as read from a file or `--label`. `__proto__` is refused here: a plain object drops
 * it without a word (assigning it sets the prototype), and the collector's JSON parser refuses any
 * body holding it without naming the field (prototype poisoning), so this names it as the
 * collector names every other bad key.
 */
export function labelKey(key: string, where: string): string {
  if (key === "__proto__") throw new LeaseDataError(`${where}field labels: "__proto__" is not a label key`);
  return key;
}

export type ImportFormat = "csv" | "yaml";

/** The file's format: --format, else its name. A bad or missing --format is bad usage (64), not bad data. */
export function formatOf(path: string, given: string | undefined): ImportFormat {
  if (given !== undefined) {
    if (given === "csv" || given === "yaml") return given;
    throw new UsageError(`--format must be csv or yaml, not ${JSON.stringify(given)}`);
  }
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.ya?ml$/i.test(path)) return "yaml";
  throw new UsageError(`${path}: cannot tell CSV from YAML by the name: give --format csv or --format yaml`);
}

export function parseImport(text: string, format: ImportFormat, name: string): ImportRecord[] {
  return format === "csv" ? parseCsv(text, name) : parseYaml(text, name);
}

/** RFC 4180 rows with the line each starts on (quoted fields may hold commas, quotes, newlines). */
export function csvRows(text: string, name: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  /** Just past a quoted field's closing quote: only a comma or a line break may follow. */
  let closed = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === "")) rows.push({ line: rowLine, cells });
    cells = [];
    cell = "";
  };
  const src = text.replace(/^\uFEFF/, "");
  while (i < src.length) {
    const ch = src[i] as string;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        closed = true;
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
      i++;
      continue;
    }
    // `"2.40"0` is no RFC 4180 field: refused, not read as 2.400.
    if (closed && ch !== "," && ch !== "\n" && ch !== "\r")
      throw new LeaseDataError(`${name}:${line}: text after the closing quote of a field`);
    closed = false;
    if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") {
      cells.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && src[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else if (ch === '"') throw new LeaseDataError(`${name}:${line}: a quote inside an unquoted field`);
    else cell += ch;
    i++;
  }
  if (quoted) throw new LeaseDataError(`${name}:${rowLine}: a quoted field is not closed`);
  endRow();
  return rows;
}

function parseCsv(text: string, name: string): ImportRecord[] {
  const rows = csvRows(text, name);
  const header = rows.shift();
  if (!header) throw new LeaseDataError(`${name}: empty file (a header row names the fields)`);
  const columns = header.cells.map((c) => c.trim());
  columns.forEach((c, i) => {
    if (!(FIELD_NAMES as readonly string[]).includes(c))
      throw new LeaseDataError(
        `${name}:${header.line}: field ${JSON.stringify(c)}: unknown column (columns: ${FIELD_NAMES.join(", ")})`,
      );
    // A second column of one field would silently win over the first: which value is meant?
    if (columns.indexOf(c) !== i)
      throw new LeaseDataError(`${name}:${header.line}: field ${JSON.stringify(c)}: column given twice`);
  });
  return rows.map(({ line, cells }) => {
    if (cells.length !== columns.length)
      throw new LeaseDataError(
        `${name}:${line}: ${cells.length} fields where the header has ${columns.length}`,
      );
    const fields: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      const value = (cells[i] ?? "").trim();
      if (value === "") return;
      fields[column] = column === "labels" ? csvLabels(value, name, line) : value;
    });
    return { line, fields };
  });
}

/** `key=value;key=value` */
function csvLabels(text: string, name: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(";").filter((p) => p.trim() !== "")) {
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new LeaseDataError(`${name}:${line}: field labels: ${JSON.stringify(pair)} is not key=value`);
    labels[labelKey(pair.slice(0, eq).trim(), `${name}:${line}: `)] = pair.slice(eq + 1).trim();
  }
  return labels;
}

function parseYaml(text: string, name: string): ImportRecord[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = counter.linePos(first.pos[0]).line;
    throw new LeaseDataError(`${name}:${at}: not YAML: ${first.message.split("\n")[0]}`);
  }
  // Every value as written, as a CSV cell gives it: YAML reads `id: 1001`, `contract: 007781` or
  // `po: 12.50` as numbers (1001, 7781, 12.5), which text fields refuse and decimals reshape; the
  // collector reads decimals, epoch milliseconds and labels from text. null stays null.
  visit(doc, {
    Scalar(_key, node) {
      if (node.type === "PLAIN" && (typeof node.value === "number" || typeof node.value === "boolean"))
        node.value = node.source;
    },
  });
  let list: unknown = doc.contents;
  if (isMap(list)) list = list.get("leases", true);
  if (!isSeq(list))
    throw new LeaseDataError(
      `${name}:1: expected a list of leases (or a mapping with \`leases:\` holding one)`,
    );
  return list.items.map((item, i) => {
    const offset = (item as { range?: [number, number, number] }).range?.[0] ?? 0;
    const line = counter.linePos(offset).line;
    if (!isMap(item)) throw new LeaseDataError(`${name}:${line}: lease ${i + 1} is not a mapping`);
    const fields = item.toJSON() as Record<string, unknown>;
    // YAML keeps a `__proto__` key as an own property, which the collector's JSON parser refuses.
    if (Object.hasOwn(fields, "__proto__"))
      throw new LeaseDataError(
        `${name}:${line}: field "__proto__": unknown field (fields: ${FIELD_NAMES.join(", ")})`,
      );
    const labels = fields.labels;
    if (typeof labels === "object" && labels !== null)
      for (const key of Object.keys(labels)) labelKey(key, `${name}:${line}: `);
    return { line, fields };
  });
}
