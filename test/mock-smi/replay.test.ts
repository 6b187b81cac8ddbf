// The replay property: for every capture and phase, mock-smi given the capture's own command
// prints exactly the capture's section, byte for byte.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSection, parseCapture } from "../../mock-smi/capture.js";
import { CAPTURE_DIR, CAPTURES, captureArgs, mockSmi, readCapture } from "./helpers.js";

const PHASES = ["idle", "load"] as const;

describe.each(CAPTURES)("replay %s", (file) => {
  const path = join(CAPTURE_DIR, file);
  const capture = parseCapture(readCapture(file));

  it.each(PHASES)(
    "%s: query-gpu with the capture's own arguments prints its CSV section exactly",
    async (phase) => {
      const section = findSection(capture, phase, "query-gpu");
      expect(section?.args).toMatch(/^--query-gpu=\S+ --format=csv$/);
      const result = await mockSmi([
        "--replay",
        path,
        "--phase",
        phase,
        "--",
        ...captureArgs(section?.args ?? ""),
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(section?.output);
    },
  );

  it.each(PHASES)("%s: query-compute-apps prints its section exactly", async (phase) => {
    const section = findSection(capture, phase, "query-compute-apps");
    const result = await mockSmi([
      "--replay",
      path,
      "--phase",
      phase,
      "--",
      ...captureArgs(section?.args ?? ""),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(section?.output);
  });

  it.each([
    ["-L", "list (-L)"],
    ["--version", "version"],
    ["--help-query-gpu", "help-query-gpu"],
    ["--help-query-compute-apps", "help-query-compute-apps"],
    ["-h", "help (-h)"],
  ])("%s prints the capture's section exactly", async (arg, name) => {
    const section = findSection(capture, "capabilities", name);
    expect(section?.output.length).toBeGreaterThan(0);
    for (const phase of PHASES) {
      const result = await mockSmi(["--replay", path, "--phase", phase, "--", arg]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(section?.output);
    }
  });
});
