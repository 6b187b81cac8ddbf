// A stand-in nvidia-smi for the processes source's tests: a real child (a small node script in a
// temp folder) that logs every argv to calls.log and answers from files the test writes there:
// list.txt for `-L`, xml.txt for `-q -x` (xml.delay-ms to answer late), `<name>.code` for an exit
// status, and pmon.txt, printed at once and again every `-d` seconds until killed (its pid in
// pmon.pid). No module is mocked: the source spawns, reads and reaps it as it would the real tool.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const dir = process.argv[2];
const args = process.argv.slice(3);
const read = (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : undefined);
appendFileSync(join(dir, "calls.log"), args.join(" ") + "\\n");
if (args[0] === "pmon") {
  writeFileSync(join(dir, "pmon.pid"), String(process.pid));
  const d = Number(args[args.indexOf("-d") + 1] || 1);
  const print = () => process.stdout.write(read("pmon.txt") ?? "");
  print();
  setInterval(print, d * 1000);
} else {
  const name = args.includes("-L") ? "list" : args.includes("-x") ? "xml" : "other";
  const answer = () => {
    const out = read(name + ".txt");
    if (out !== undefined) process.stdout.write(out);
    process.exitCode = Number(read(name + ".code") ?? (out === undefined ? 2 : 0));
  };
  setTimeout(answer, Number(read(name + ".delay-ms") ?? 0));
}
`;

export interface FakeSmi {
  dir: string;
  /** nvidia-smi's argv for the source. */
  command: string[];
  /** Writes one answer file. */
  answer(file: string, text: string): void;
  /** The argv of every call so far, one string each. */
  calls(): string[];
  /** The pmon child's pid once it started. */
  pmonPid(): number | undefined;
  remove(): void;
}

export function fakeSmi(): FakeSmi {
  const dir = mkdtempSync(join(tmpdir(), "gputel-fake-smi-"));
  writeFileSync(join(dir, "smi.mjs"), SCRIPT);
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
  return {
    dir,
    command: [process.execPath, join(dir, "smi.mjs"), dir],
    answer: (file, text) => writeFileSync(join(dir, file), text),
    calls: () =>
      read("calls.log")
        .split("\n")
        .filter((l) => l !== ""),
    pmonPid: () => (read("pmon.pid") === "" ? undefined : Number(read("pmon.pid"))),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether a process is still there (signal 0 only asks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
