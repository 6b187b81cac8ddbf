// The `retention` setting has one parser: what the configuration accepts, the store opens, and the
// other way round; both name the problem under the key the user wrote.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../../collector/config.js";
import { parseTierRules } from "../../../collector/store/tiers.js";

function configProblems(rules: readonly string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "gputel-tiers-"));
  const file = join(dir, "collector.yaml");
  writeFileSync(file, `retention: ${JSON.stringify(rules)}\n`);
  const result = loadCollectorConfig({ file, env: {} });
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

function storeProblems(rules: readonly string[]): string[] {
  try {
    parseTierRules(rules);
    return [];
  } catch (error) {
    return ((error as { detail?: { problems?: string[] } }).detail?.problems ?? [String(error)]).slice();
  }
}

const RULE_SETS: readonly (readonly string[])[] = [
  ["48h:raw", "30d:1m", "2y:1h"],
  ["48h:raw", "30d:1m", "2y:1h", "2y:1d"],
  // Raw not first: the store used to sort it into place, the configuration refused it.
  ["30d:1m", "48h:raw", "2y:1h"],
  // A rollup kept for less than one of its steps: the configuration used to accept it.
  ["1m:raw", "1m:1h"],
  ["48h:raw", "30d:1m", "30d:1m"],
  ["48h:raw", "30d:7s", "2y:1m"],
  ["48h:raw", "1d:500ms"],
  ["48h", "xx:1m", "1d:7s"],
  ["48h:raw", "1d:raw"],
];

describe("retention rules", () => {
  it.each(RULE_SETS.map((rules) => [rules.join(", "), rules]))(
    "%s: the configuration and the store agree, under the key retention",
    (_name, rules) => {
      const fromConfig = configProblems(rules);
      expect(storeProblems(rules)).toEqual(fromConfig);
      for (const problem of fromConfig) expect(problem).toMatch(/^retention(\[\d+\])?: /);
    },
  );

  it("refuses raw samples that are not the first tier, and a rollup kept less than its step", () => {
    expect(storeProblems(["30d:1m", "48h:raw", "2y:1h"])).toEqual([
      'retention[0]: the first tier must keep raw samples ("48h:raw"), got "30d:1m"',
    ]);
    expect(storeProblems(["1m:raw", "1m:1h"])).toEqual([
      "retention[1]: retention 1m is shorter than the step 1h",
    ]);
  });

  it("turns the rules into the store's tiers", () => {
    expect(parseTierRules(["48h:raw", "30d:1m", "2y:1h", "2y:1d"])).toEqual({
      rawRetentionMs: 48 * 3_600_000,
      rollups: [
        { stepMs: 60_000, retentionMs: 30 * 86_400_000 },
        { stepMs: 3_600_000, retentionMs: 2 * 365 * 86_400_000 },
        { stepMs: 86_400_000, retentionMs: 2 * 365 * 86_400_000 },
      ],
    });
  });
});
