// Reads sections of the fixture captures (test/fixtures/nvidia-smi/README.md describes the format):
// a line of '#', `# <phase> :: <name>`, optionally `# $ <command>`, a line of '#', then the output.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "../../fixtures/nvidia-smi");
export const CAPTURES = join(FIXTURES, "captures");

export interface CaptureSection {
  phase: string;
  name: string;
  command: string;
  output: string;
}

const RULE = /^#{20,}$/;

export function readCapture(file: string): CaptureSection[] {
  const lines = readFileSync(join(CAPTURES, file), "utf8").split("\n");
  const sections: CaptureSection[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^# (\w+) :: (.*)$/.exec(lines[i] ?? "");
    if (!head || !RULE.test(lines[i - 1] ?? "")) continue;
    let j = i + 1;
    let command = "";
    if ((lines[j] ?? "").startsWith("# $ ")) command = (lines[j++] ?? "").slice(4);
    if (!RULE.test(lines[j] ?? "")) continue;
    const body: string[] = [];
    for (
      j += 1;
      j < lines.length && !(RULE.test(lines[j] ?? "") && /^# \w+ :: /.test(lines[j + 1] ?? ""));
      j++
    ) {
      body.push(lines[j] ?? "");
    }
    sections.push({
      phase: head[1] ?? "",
      name: head[2] ?? "",
      command,
      output: body.join("\n").replace(/\n+$/, ""),
    });
    i = j - 1;
  }
  return sections;
}

export function section(sections: CaptureSection[], phase: string, namePrefix: string): CaptureSection {
  const found = sections.find((s) => s.phase === phase && s.name.startsWith(namePrefix));
  if (!found) throw new Error(`no section ${phase} :: ${namePrefix}`);
  return found;
}

export function captureFiles(): string[] {
  return readdirSync(CAPTURES)
    .filter((f) => f.endsWith(".txt"))
    .sort();
}
