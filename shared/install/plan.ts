// What `gputel <program> install|uninstall` does, as a list of steps: pure, so --dry-run and the
// tests see exactly what a real run would do.
import { stringify } from "yaml";
import { setPath } from "../config/keys.js";
import type { Step } from "./steps.js";

export interface InstallSpec {
  program: "agent" | "collector";
  unit: string;
  configFile: string;
  stateDirectory: string;
  /** Installer flag → config key path ("--broker" → "broker.url"). */
  flags: Readonly<Record<string, string>>;
  /** Repeatable "key=value" flags → map key ("--label" → "labels"). */
  mapFlags: Readonly<Record<string, string>>;
  /** Secret file flags → systemd credential name ("--password-file" → "mqtt_password"). */
  secretFlags: Readonly<Record<string, string>>;
  /** The other program's unit: the shared user is removed only when neither is installed. */
  siblingUnit: string;
}

export const USER = "gputel";
export const UNIT_DIR = "/etc/systemd/system";
export const CONFIG_DIR = "/etc/gputel";
export const CREDENTIAL_DIR = "/etc/gputel/credentials";

export interface InstallInputs {
  /** The shipped unit text. */
  unitText: string;
  /** The gputel executable ExecStart should run. */
  bin: string;
  /** Config keys from flags, by dotted path. */
  settings: Readonly<Record<string, unknown>>;
  /** Credential name → secret contents (read from the --*-file flags). */
  credentials: Readonly<Record<string, string>>;
  configExists: boolean;
  force: boolean;
  start: boolean;
}

export function credentialPath(spec: InstallSpec, name: string): string {
  return `${CREDENTIAL_DIR}/${spec.program}.${name}`;
}

export function renderConfig(spec: InstallSpec, settings: Readonly<Record<string, unknown>>): string {
  const doc: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(settings)) setPath(doc, path.split("."), value);
  const body = Object.keys(doc).length > 0 ? stringify(doc) : "{}\n";
  return `# Written by \`gputel ${spec.program} install\`. Every key, its default and what it does:\n# deploy/examples/${spec.program}.yaml; check with \`gputel ${spec.program} check-config\`.\n${body}`;
}

export function planInstall(spec: InstallSpec, inputs: InstallInputs): Step[] {
  const unitPath = `${UNIT_DIR}/${spec.unit}`;
  const steps: Step[] = [
    {
      kind: "run",
      argv: [
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        USER,
      ],
      unless: ["id", "-u", USER],
    },
    { kind: "mkdir", path: CONFIG_DIR, mode: 0o755 },
    {
      kind: "write",
      path: unitPath,
      content: inputs.unitText.replaceAll("/usr/bin/gputel ", `${inputs.bin} `),
      mode: 0o644,
    },
  ];
  if (!inputs.configExists || inputs.force) {
    steps.push(
      { kind: "write", path: spec.configFile, content: renderConfig(spec, inputs.settings), mode: 0o640 },
      { kind: "run", argv: ["chown", `root:${USER}`, spec.configFile] },
    );
  }
  const names = Object.keys(inputs.credentials);
  if (names.length > 0) {
    steps.push({ kind: "mkdir", path: CREDENTIAL_DIR, mode: 0o700 });
    for (const name of names) {
      steps.push({
        kind: "write",
        path: credentialPath(spec, name),
        content: `${inputs.credentials[name]}\n`,
        mode: 0o600,
        secret: true,
      });
    }
    const lines = names.map((name) => `LoadCredential=${name}:${credentialPath(spec, name)}`);
    steps.push({ kind: "mkdir", path: `${unitPath}.d`, mode: 0o755 });
    steps.push({
      kind: "write",
      path: `${unitPath}.d/credentials.conf`,
      content: `# Written by \`gputel ${spec.program} install\`: secrets reach the service as systemd credentials.\n[Service]\n${lines.join("\n")}\n`,
      mode: 0o644,
    });
  }
  steps.push({ kind: "run", argv: ["systemctl", "daemon-reload"] });
  steps.push({ kind: "run", argv: ["systemctl", "enable", spec.unit] });
  // restart, not start: a reinstall over a running service picks up the new unit and config.
  if (inputs.start) steps.push({ kind: "run", argv: ["systemctl", "restart", spec.unit] });
  return steps;
}

export function planUninstall(
  spec: InstallSpec,
  options: { purge: boolean; siblingInstalled: boolean },
): Step[] {
  const unitPath = `${UNIT_DIR}/${spec.unit}`;
  const steps: Step[] = [
    { kind: "run", argv: ["systemctl", "disable", "--now", spec.unit] },
    { kind: "remove", path: unitPath },
    { kind: "remove", path: `${unitPath}.d`, recursive: true },
    { kind: "run", argv: ["systemctl", "daemon-reload"] },
  ];
  if (!options.purge) return steps;
  steps.push(
    { kind: "remove", path: spec.configFile },
    ...Object.values(spec.secretFlags).map(
      (name): Step => ({ kind: "remove", path: credentialPath(spec, name) }),
    ),
    { kind: "remove", path: spec.stateDirectory, recursive: true },
  );
  if (!options.siblingInstalled)
    steps.push({ kind: "run", argv: ["userdel", USER], unless: ["sh", "-c", `! id -u ${USER}`] });
  return steps;
}
