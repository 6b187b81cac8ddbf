// The pure output helpers against the real captures: header cells, unit stripping, timestamps.
import { describe, expect, it } from "vitest";
import { findSection, parseCapture, parseCsvTable } from "../../mock-smi/capture.js";
import {
  csvLine,
  formatCtime,
  formatTimestamp,
  headerCell,
  headerLine,
  parseFormat,
  parseHeaderCell,
  valueCell,
  withUnit,
} from "../../mock-smi/csv-format.js";
import { parseFieldHelp } from "../../mock-smi/field-catalogue.js";
import { CAPTURES, readCapture } from "./helpers.js";

describe("csv format helpers", () => {
  it("parses --format specs in any order and rejects others", () => {
    expect(parseFormat("csv")).toEqual({ header: true, units: true });
    expect(parseFormat("csv,noheader,nounits")).toEqual({ header: false, units: false });
    expect(parseFormat("nounits,csv")).toEqual({ header: true, units: false });
    expect(parseFormat("noheader")).toBeUndefined();
    expect(parseFormat("csv,bogus")).toBeUndefined();
  });

  it("formats values with and without units as the real tool does", () => {
    expect(valueCell("69.85 W", "W", false)).toBe("69.85");
    expect(valueCell("0 %", "%", false)).toBe("0");
    expect(valueCell("81559 MiB", "MiB", false)).toBe("81559");
    expect(valueCell("[N/A]", "W", false)).toBe("[N/A]");
    expect(valueCell("69.85 W", "W", true)).toBe("69.85 W");
    expect(withUnit("69.85", "W")).toBe("69.85 W");
    expect(withUnit("[N/A]", "W")).toBe("[N/A]");
    expect(withUnit("41", undefined)).toBe("41");
    expect(headerCell({ name: "power.draw", unit: "W" }, true)).toBe("power.draw [W]");
    expect(headerCell({ name: "power.draw", unit: "W" }, false)).toBe("power.draw");
  });

  it("prints timestamps in the real spellings (local time)", () => {
    const ms = new Date(2026, 6, 14, 8, 12, 38, 696).getTime();
    expect(formatTimestamp(ms)).toBe("2026/07/14 08:12:38.696");
    expect(formatCtime(new Date(2023, 7, 4, 11, 44, 30).getTime())).toBe("Fri Aug  4 11:44:30 2023");
  });
});

describe.each(CAPTURES)("csv helpers on %s", (file) => {
  const capture = parseCapture(readCapture(file));

  it.each(["idle", "load"])(
    "%s: header and line round-trip with units; nounits strips every unit",
    (phase) => {
      const output = findSection(capture, phase, "query-gpu")?.output ?? "";
      const table = parseCsvTable(output);
      const row = table.rows[0] ?? [];
      expect(table.columns.length).toBe(row.length);
      const withUnits = { header: true, units: true };
      expect(`${headerLine(table.columns, withUnits)}\n${csvLine(row, table.columns, withUnits)}\n`).toBe(
        output,
      );
      const bare = csvLine(row, table.columns, { header: false, units: false }).split(", ");
      table.columns.forEach((column, i) => {
        expect(parseHeaderCell(headerCell(column, true))).toEqual(column);
        if (column.unit === undefined) expect(bare[i]).toBe(row[i]);
        else if (row[i]?.startsWith("[")) expect(bare[i]).toBe(row[i]);
        else expect(bare[i]).toMatch(/^-?\d+(\.\d+)?$/);
      });
    },
  );

  it("finds every field of the capture's query in its --help-query-gpu list", () => {
    const help = parseFieldHelp(findSection(capture, "capabilities", "help-query-gpu")?.output ?? "");
    const query = findSection(capture, "idle", "query-gpu")?.args ?? "";
    const fields = (/--query-gpu=(\S+)/.exec(query)?.[1] ?? "").split(",");
    expect(fields.length).toBeGreaterThan(100);
    expect(help.names).toEqual(fields);
    expect(help.resolve("clocks_throttle_reasons.active")).toBe("clocks_event_reasons.active");
    expect(help.resolve("clocks.sm")).toBe("clocks.current.sm");
    expect(help.resolve("gpu_name")).toBe("name");
    expect(help.resolve("0: Default")).toBeUndefined();
  });
});
