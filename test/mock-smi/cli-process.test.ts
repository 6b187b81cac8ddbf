// The real executable path the agent uses: `bin/gputel mock-smi ...` as a child process (dist/ is
// built by `npm test` before vitest runs).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findSection, parseCapture } from "../../mock-smi/capture.js";
import { CAPTURE_DIR, captureArgs, readCapture, SCENARIO_DIR } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/gputel");

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/cli/main.js")) || !existsSync(join(ROOT, "dist/mock-smi/cli.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  }
});

function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "mock-smi", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("gputel mock-smi as a child process", () => {
  it("replays a capture's own query byte for byte", async () => {
    const file = "linux-x86_64__nvidia-l40s__595.80.txt";
    const section = findSection(parseCapture(readCapture(file)), "load", "query-gpu");
    const result = await runToEnd([
      "--replay",
      join(CAPTURE_DIR, file),
      "--phase",
      "load",
      "--",
      ...captureArgs(section?.args ?? ""),
    ]);
    expect(result).toEqual({ code: 0, stdout: section?.output });
  });

  it("streams -lms 100: one line per GPU per iteration until killed", async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        "mock-smi",
        "--scenario",
        join(SCENARIO_DIR, "test-patterns.yaml"),
        "--",
        "--query-gpu=timestamp,index",
        "--format=csv,noheader,nounits",
        "-lms",
        "100",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const lines: string[] = [];
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`only ${lines.length} lines in 10 s`)), 10_000);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split("\n");
        buffered = parts.pop() ?? "";
        lines.push(...parts);
        if (lines.length >= 9) {
          clearTimeout(deadline);
          resolve();
        }
      });
      child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
    });
    child.kill("SIGTERM");
    const groups = [0, 3, 6].map((i) => lines.slice(i, i + 3));
    for (const group of groups) {
      expect(group.map((l) => l.split(", ")[1])).toEqual(["0", "1", "2"]);
      expect(new Set(group.map((l) => l.split(", ")[0])).size).toBe(1);
    }
    const times = groups.map((g) =>
      Date.parse((g[0] ?? "").split(", ")[0]?.replace(/\//g, "-").replace(" ", "T") ?? ""),
    );
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(50);
    expect(times[2]! - times[1]!).toBeLessThan(1000);
  });
});
