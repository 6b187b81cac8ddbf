// `gputel agent|collector install|uninstall`: flags → a validated config, a unit, credentials,
// then systemctl. `--dry-run` prints every step; `--root DIR` writes below DIR (tests, images).
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TObject } from "@sinclair/typebox";
import { type ConfigSpec, loadConfig } from "../config/load.js";
import { EX_CONFIG, formatProblems } from "../config/problems.js";
import { readSecretFile } from "../config/secrets.js";
import { executeSteps } from "./execute.js";
import { type InstallSpec, planInstall, planUninstall, UNIT_DIR } from "./plan.js";
import { underRoot } from "./steps.js";

export interface InstallProgram extends InstallSpec {
  config: ConfigSpec<TObject>;
}

export interface InstallIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Substitute command runner (tests). */
  run?: (argv: string[]) => number;
  uid?: number;
}

const defaultIo: InstallIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** The package root: the nearest ancestor holding systemd/gputel-agent.service (works from src and dist). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "systemd", "gputel-agent.service"))) return dir;
    if (dirname(dir) === dir) throw new Error("cannot find the gputel package's systemd/ directory");
  }
}

interface Parsed {
  root: string;
  dryRun: boolean;
  force: boolean;
  purge: boolean;
  start: boolean;
  bin?: string;
  help: boolean;
  settings: Record<string, unknown>;
  secretFiles: Record<string, string>;
}

function parseArgs(spec: InstallSpec, args: readonly string[], uninstall: boolean): Parsed | string {
  const out: Parsed = {
    root: "/",
    dryRun: false,
    force: false,
    purge: false,
    start: true,
    help: false,
    settings: {},
    secretFiles: {},
  };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = () => {
      const v = eq > 0 ? raw.slice(eq + 1) : args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    try {
      if (flag === "-h" || flag === "--help") out.help = true;
      else if (flag === "--dry-run") out.dryRun = true;
      else if (flag === "--root") out.root = resolve(value());
      else if (flag === "--purge" && uninstall) out.purge = true;
      else if (flag === "--force" && !uninstall) out.force = true;
      else if (flag === "--no-start" && !uninstall) out.start = false;
      else if (flag === "--bin" && !uninstall) out.bin = value();
      else if (!uninstall && spec.flags[flag]) out.settings[spec.flags[flag]] = value();
      else if (!uninstall && spec.mapFlags[flag]) {
        const pair = value();
        const at = pair.indexOf("=");
        if (at <= 0) return `${flag} takes key=value, got '${pair}'`;
        out.settings[`${spec.mapFlags[flag]}.${pair.slice(0, at)}`] = pair.slice(at + 1);
      } else if (!uninstall && spec.secretFlags[flag]) out.secretFiles[spec.secretFlags[flag]] = value();
      else return `unknown argument '${raw}'`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  return out;
}

function usage(spec: InstallSpec, uninstall: boolean): string {
  if (uninstall) {
    return `Usage: gputel ${spec.program} uninstall [--purge] [--dry-run] [--root DIR]\n\nStops and disables ${spec.unit} and removes it. Keeps ${spec.configFile} and ${spec.stateDirectory} unless --purge.\n`;
  }
  const flags = [
    ...Object.entries(spec.flags).map(([f, p]) => `${`  ${f} VALUE`.padEnd(30)}sets ${p}`),
    ...Object.entries(spec.mapFlags).map(
      ([f, p]) => `${`  ${f} KEY=VALUE`.padEnd(30)}sets ${p}.KEY (repeatable)`,
    ),
    ...Object.entries(spec.secretFlags).map(
      ([f, c]) => `${`  ${f} FILE`.padEnd(30)}secret, passed as the systemd credential ${c}`,
    ),
  ];
  return [
    `Usage: gputel ${spec.program} install [options]   (as root)`,
    "",
    `Creates the user gputel, writes ${spec.configFile} from the flags (kept if present unless --force),`,
    `installs ${UNIT_DIR}/${spec.unit}, then daemon-reload, enable and (re)start.`,
    "",
    ...flags,
    "  --bin PATH                  the gputel executable for ExecStart (default: this one)",
    "  --force                     overwrite an existing config file",
    "  --no-start                  enable but do not start",
    "  --dry-run                   print every step, change nothing",
    "  --root DIR                  write below DIR; commands are printed, not run",
    "",
  ].join("\n");
}

function defaultBin(): string {
  const script = process.argv[1];
  if (script && /(^|\/)gputel$/.test(script) && existsSync(script)) return realpathSync(script);
  return "/usr/bin/gputel";
}

function needsRoot(parsed: Parsed, io: InstallIo): boolean {
  return !parsed.dryRun && parsed.root === "/" && (io.uid ?? process.getuid?.() ?? 0) !== 0;
}

export async function installCommand(
  program: InstallProgram,
  args: readonly string[],
  io: InstallIo = defaultIo,
): Promise<number> {
  const name = `gputel ${program.program} install`;
  const parsed = parseArgs(program, args, false);
  if (typeof parsed === "string") {
    io.stderr(`${name}: ${parsed} (GPUTEL_E_USAGE)\n\n${usage(program, false)}`);
    return 64;
  }
  if (parsed.help) {
    io.stdout(usage(program, false));
    return 0;
  }
  if (needsRoot(parsed, io)) {
    io.stderr(`${name}: must run as root (or use --dry-run / --root DIR)\n`);
    return 77;
  }
  const credentials: Record<string, string> = {};
  for (const [credential, file] of Object.entries(parsed.secretFiles)) {
    try {
      credentials[credential] = readSecretFile(file);
    } catch (error) {
      io.stderr(`${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}\n`);
      return EX_CONFIG;
    }
  }
  // Validate what will be written before touching anything (paths in it are target paths: not opened here).
  const check = loadConfig(
    { ...program.config, defaultFile: "/dev/null" },
    { env: {}, overrides: parsed.settings, touchFiles: false, credentials },
  );
  if (!check.ok) {
    io.stderr(formatProblems(program.program, undefined, check.problems));
    return EX_CONFIG;
  }
  const configExists = existsSync(underRoot(parsed.root, program.configFile));
  const steps = planInstall(program, {
    unitText: readFileSync(join(packageRoot(), "systemd", program.unit), "utf8"),
    bin: parsed.bin ?? defaultBin(),
    settings: parsed.settings,
    credentials,
    configExists,
    force: parsed.force,
    start: parsed.start,
  });
  if (configExists && !parsed.force) {
    io.stdout(`keep ${program.configFile} (exists; --force overwrites it)\n`);
  }
  return executeSteps(steps, {
    root: parsed.root,
    dryRun: parsed.dryRun,
    print: (l) => io.stdout(`${l}\n`),
    run: io.run,
  });
}

export async function uninstallCommand(
  program: InstallProgram,
  args: readonly string[],
  io: InstallIo = defaultIo,
): Promise<number> {
  const name = `gputel ${program.program} uninstall`;
  const parsed = parseArgs(program, args, true);
  if (typeof parsed === "string") {
    io.stderr(`${name}: ${parsed} (GPUTEL_E_USAGE)\n\n${usage(program, true)}`);
    return 64;
  }
  if (parsed.help) {
    io.stdout(usage(program, true));
    return 0;
  }
  if (needsRoot(parsed, io)) {
    io.stderr(`${name}: must run as root (or use --dry-run / --root DIR)\n`);
    return 77;
  }
  const siblingInstalled = existsSync(underRoot(parsed.root, `${UNIT_DIR}/${program.siblingUnit}`));
  const steps = planUninstall(program, { purge: parsed.purge, siblingInstalled });
  return executeSteps(steps, {
    root: parsed.root,
    dryRun: parsed.dryRun,
    print: (l) => io.stdout(`${l}\n`),
    run: io.run,
  });
}
