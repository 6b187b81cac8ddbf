// The shipped Mosquitto fleet configuration (deploy/mosquitto/), started for real: its paths
// moved into a temp dir, its ports made free, certificates and passwords generated here.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { MOSQUITTO_BIN } from "../helpers/mosquitto.js";
import { freePort, waitFor } from "../helpers/net.js";

const ROOT = join(import.meta.dirname, "../..");

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** An EC key and certificate signed by `ca` (or self-signed when ca is undefined: a CA). */
export function makeCert(dir: string, name: string, cn: string, ca?: string, ext?: string): void {
  const key = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
  ];
  if (!ca) {
    openssl(["req", "-x509", ...key, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`], dir);
    return;
  }
  openssl(["req", ...key, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
  writeFileSync(join(dir, `${name}.ext`), `${ext ?? "extendedKeyUsage=clientAuth"}\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ],
    dir,
  );
}

/** CA, server cert for 127.0.0.1/localhost, client certs for node-1 and the collector, and a rogue CA's client cert. */
export function makePki(): string {
  const dir = mkdtempSync(join(tmpdir(), "gputel-pki-"));
  makeCert(dir, "ca", "gputel-test-ca");
  makeCert(
    dir,
    "server",
    "localhost",
    "ca",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
  );
  makeCert(dir, "node-1", "node-1", "ca");
  makeCert(dir, "rogue-ca", "rogue-ca");
  makeCert(dir, "rogue", "node-1", "rogue-ca");
  return dir;
}

export interface FleetBroker {
  plainPort: number;
  tlsPort: number;
  pki: string;
  output(): string;
  stop(): Promise<void>;
}

export const USERS = {
  "node-1": "pw-node-1",
  "node-2": "pw-node-2",
  "gputel-collector": "pw-collector",
} as const;

export interface FleetBrokerOptions {
  mtls?: boolean;
  /** Accounts in the password file (default USERS); the collector must be `gputel-collector` for the ACL. */
  users?: Readonly<Record<string, string>>;
}

export async function startFleetBroker(pki: string, options: FleetBrokerOptions = {}): Promise<FleetBroker> {
  const dir = mkdtempSync(join(tmpdir(), "gputel-fleet-broker-"));
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const passwd = join(dir, "passwd");
  for (const [i, [user, password]] of Object.entries(options.users ?? USERS).entries()) {
    execFileSync("mosquitto_passwd", [...(i === 0 ? ["-c"] : []), "-b", passwd, user, password]);
  }
  writeFileSync(join(dir, "acl"), readFileSync(join(ROOT, "deploy/mosquitto/acl")));
  let conf = readFileSync(join(ROOT, "deploy/mosquitto/mosquitto.conf"), "utf8")
    .replaceAll("/etc/mosquitto/gputel/tls/", `${pki}/`)
    .replaceAll("/etc/mosquitto/gputel/", `${dir}/`)
    .replace("persistence_location /var/lib/mosquitto/", `persistence_location ${dir}/`)
    .replace("listener 1883 127.0.0.1", `listener ${plainPort} 127.0.0.1`)
    .replace("listener 8883", `listener ${tlsPort} 127.0.0.1`);
  if (options.mtls) conf = conf.replace("#require_certificate true", "require_certificate true");
  // Run as whoever runs the tests (as root Mosquitto would switch to the `mosquitto` user).
  conf += `\nuser ${userInfo().username}\n`;
  const file = join(dir, "mosquitto.conf");
  writeFileSync(file, conf);

  let output = "";
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ["-c", file], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const listening = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${output}`);
        return (await listening(plainPort)) && (await listening(tlsPort));
      },
      10_000,
      "the fleet broker's listeners",
    );
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    plainPort,
    tlsPort,
    pki,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
