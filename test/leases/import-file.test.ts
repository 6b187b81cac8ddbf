// The import file reader: CSV quoting (commas, quotes, newlines inside fields), line numbers of
// each record, YAML lists with and without `leases:`, and errors that name line and field.
import { describe, expect, test } from "vitest";
import { csvRows, formatOf, LeaseDataError, parseImport } from "../../cli/lease/import-file.js";

describe("CSV", () => {
  test("quoted fields and the line each record starts on", () => {
    const text = 'id,contract\r\na,"x, ""y"""\nb,"two\nlines"\n\nc,z\n';
    expect(csvRows(text, "f.csv")).toEqual([
      { line: 1, cells: ["id", "contract"] },
      { line: 2, cells: ["a", 'x, "y"'] },
      { line: 3, cells: ["b", "two\nlines"] },
      { line: 6, cells: ["c", "z"] },
    ]);
  });

  test("records keep non-empty cells; labels are key=value;key=value", () => {
    const recs = parseImport("id,tenant,end,labels\nL1,acme,,po=1; team = ml\n", "csv", "f.csv");
    expect(recs).toEqual([
      { line: 2, fields: { id: "L1", tenant: "acme", labels: { po: "1", team: "ml" } } },
    ]);
  });

  test.each([
    ["id,colour\nx,red\n", /f\.csv:1: field "colour": unknown column/],
    ["id,end,tenant,end\nx,2026-11-02T00:00:00Z,acme,\n", /f\.csv:1: field "end": column given twice/],
    ['id,tenant\n"x,acme\n', /f\.csv:2: a quoted field is not closed/],
    ['id,tenant\nx,"acme"x\n', /f\.csv:2: text after the closing quote/],
    ["id,labels\nx,oops\n", /f\.csv:2: field labels: "oops" is not key=value/],
    ["", /empty file/],
  ])("%j is refused naming where", (text, message) => {
    expect(() => parseImport(text, "csv", "f.csv")).toThrow(message);
  });
});

describe("YAML", () => {
  test("a bare list or `leases:`; each record's line is its first key's", () => {
    const bare = parseImport("- id: a\n  tenant: x\n\n- id: b\n  tenant: y\n", "yaml", "f.yaml");
    expect(bare.map((r) => r.line)).toEqual([1, 4]);
    const nested = parseImport("leases:\n  - id: a\n    pricePerGpuHour: 2.5\n", "yaml", "f.yaml");
    // Values as written (a CSV cell would give "2.5"): the collector reads decimals from text.
    expect(nested).toEqual([{ line: 2, fields: { id: "a", pricePerGpuHour: "2.5" } }]);
  });

  test("not a list, not a mapping, not YAML", () => {
    expect(() => parseImport("id: a\n", "yaml", "f.yaml")).toThrow(/expected a list of leases/);
    expect(() => parseImport("- a\n", "yaml", "f.yaml")).toThrow(/f\.yaml:1: lease 1 is not a mapping/);
    expect(() => parseImport("- id: [a\n", "yaml", "f.yaml")).toThrow(LeaseDataError);
  });
});

test("the format comes from the name or --format", () => {
  expect(formatOf("x.CSV", undefined)).toBe("csv");
  expect(formatOf("x.yml", undefined)).toBe("yaml");
  expect(formatOf("x.txt", "yaml")).toBe("yaml");
  expect(() => formatOf("x.txt", undefined)).toThrow(/--format/);
});
