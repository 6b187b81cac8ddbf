// `npm audit` needs the registry's advisory endpoint, which is not reachable everywhere; this keeps
// the one known-vulnerable pin in our tree (node-nvidia-smi → xml2js < 0.5, prototype pollution)
// overridden to a fixed version whatever the network allows.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);

function version(name: string): number[] {
  const path = require.resolve(`${name}/package.json`, { paths: [require.resolve("node-nvidia-smi")] });
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version.split(".").map(Number);
}

describe("dependency overrides", () => {
  it("resolves node-nvidia-smi's xml2js to 0.5 or later", () => {
    const [major = 0, minor = 0] = version("xml2js");
    expect(major > 0 || minor >= 5).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      overrides: Record<string, string>;
    };
    expect(pkg.overrides.xml2js).toMatch(/^\^?0\.[5-9]|^\^?[1-9]/);
  });
});
