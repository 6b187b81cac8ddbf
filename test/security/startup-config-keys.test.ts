// Issue 13 item 8: a key from the configuration file or the command line never names an object's
// prototype. `labels: {__proto__: {...}}` would otherwise set the labels object's prototype (the
// config loader copies keys by assignment), and `--label constructor=x` would make a label the
// API cannot group by. Start-up and check-config refuse them, naming the key.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadAgentConfig } from "../../agent/config.js";
import { loadCollectorConfig } from "../../collector/config.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gputel-config-keys-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, `${Math.random()}.yaml`);
  writeFileSync(path, text);
  return path;
}

const NAMES = ["__proto__", "constructor", "prototype"];

describe.each(NAMES)("%s", (name) => {
  test("as an agent label in the file: refused, naming the key", () => {
    const loaded = loadAgentConfig({
      file: file(`labels:\n  ${name}: {polluted: yes}\n  rack: r1\n`),
      env: {},
    });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems.map((p) => p.path)).toContain(`labels.${name}`);
  });

  test("as an agent label on the command line (--label KEY=V): refused", () => {
    const loaded = loadAgentConfig({ file: "/dev/null", env: {}, overrides: { [`labels.${name}`]: "x" } });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems.map((p) => p.path)).toContain(`labels.${name}`);
  });

  test("as a remote_write header or an override's label match in the collector's file: refused", () => {
    const loaded = loadCollectorConfig({
      file: file(
        [
          "remote_write:",
          "  url: http://127.0.0.1:9/write",
          "  headers:",
          `    ${name}: x`,
          "flags:",
          "  overrides:",
          `    - match: {labels: {${name}: x}}`,
          "",
        ].join("\n"),
      ),
      env: {},
    });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) {
      const paths = loaded.problems.map((p) => p.path);
      expect(paths).toContain(`remote_write.headers.${name}`);
      expect(paths).toContain(`flags.overrides[0].match.labels.${name}`);
    }
  });
});

test("ordinary label names are still accepted", () => {
  const loaded = loadAgentConfig({ file: file("labels:\n  rack: r1\n  toString: fine\n"), env: {} });
  expect(loaded.ok).toBe(true);
  if (loaded.ok) expect(Object.keys(loaded.config.labels).sort()).toEqual(["rack", "toString"]);
});
