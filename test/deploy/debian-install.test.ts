// A real install of the package on this machine, the air-gapped way the README gives
// (`apt-get install ./gputel_….deb`: no network, the dependencies are already installed), then
// a reinstall over an edited config (the upgrade path), then `dpkg --purge`, checking that no user, group, unit, enable link or file of the package is left.
// It changes the machine, so it runs only with GPUTEL_DEB_INSTALL=1 (.ci/run sets it), as root,
// with a nodejs Debian package of this node's major (20 or later) and no gputel package or user there before.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { waitFor } from "../helpers/net.js";

const exec = promisify(execFile);
const wanted = process.env.GPUTEL_DEB_INSTALL === "1";
if (!wanted)
  console.warn(
    "Debian install round trip skipped: set GPUTEL_DEB_INSTALL=1 to run it (it installs and purges the package)",
  );

const PACKAGE_PATHS = [
  "/usr/lib/gputel",
  "/usr/bin/gputel",
  "/lib/systemd/system/gputel-agent.service",
  "/lib/systemd/system/gputel-collector.service",
  "/etc/gputel",
  "/usr/share/doc/gputel",
];

async function ok(cmd: string, args: string[]): Promise<boolean> {
  return exec(cmd, args).then(
    () => true,
    () => false,
  );
}

/** dpkg refuses while another dpkg/apt holds its lock: retry that case until a deadline. */
async function dpkg(args: string[]): Promise<string> {
  let out = "";
  await waitFor(
    async () => {
      try {
        out = (await exec("dpkg", args, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }))
          .stdout;
        return true;
      } catch (error) {
        const text = String((error as { stderr?: string }).stderr ?? error);
        if (/lock/i.test(text)) return false;
        throw new Error(`dpkg ${args.join(" ")}: ${text}`);
      }
    },
    300_000,
    "the dpkg lock",
  );
  return out;
}

function enableLinks(): string[] {
  const base = "/etc/systemd/system";
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true })
    .map(String)
    .filter((p) => /gputel-(agent|collector)\.service$/.test(p));
}

describe.skipIf(!wanted)("Debian package installed for real", () => {
  let work: string;
  let deb: string;

  beforeAll(async () => {
    assertBuilt();
    if (process.getuid?.() !== 0) throw new Error("GPUTEL_DEB_INSTALL=1 needs root");
    if (await ok("dpkg", ["-s", "gputel"])) throw new Error("a gputel package is already installed here");
    if (await ok("getent", ["passwd", "gputel"])) throw new Error("a gputel user already exists here");
    // dpkg-query's own ${Version} format, not a template string.
    const format = ["-f=$", "{Version}"].join("");
    const node = (await exec("dpkg-query", ["-W", format, "nodejs"])).stdout;
    // The package depends on the Node major that builds it (its native module's ABI): this one.
    const major = Number(process.versions.node.split(".")[0]);
    const sameMajor =
      (await ok("dpkg", ["--compare-versions", node, "ge", `${major}`])) &&
      (await ok("dpkg", ["--compare-versions", node, "lt", `${major + 1}`]));
    if (!sameMajor) throw new Error(`the nodejs Debian package is ${node}; the package needs ${major}.x`);
    work = mkdtempSync(join(tmpdir(), "gputel-deb-install-"));
    await exec(process.execPath, [join(ROOT, "scripts/package-deb.mjs"), "--skip-build", "--out", work], {
      cwd: ROOT,
    });
    deb = join(work, readdirSync(work).find((f) => f.endsWith(".deb")) ?? "");
  }, 180_000);

  afterAll(async () => {
    // A failed step must not leave the package on the machine.
    if (await ok("dpkg", ["-s", "gputel"])) await dpkg(["--purge", "gputel"]);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it("installs with the user, disabled units and 0640 configs, and purges without a trace", async () => {
    const before = enableLinks();
    const install = await exec(
      "apt-get",
      ["install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", deb],
      { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 16 << 20 },
    );
    expect(install.stdout).toMatch(/Setting up gputel /);
    const user = (await exec("getent", ["passwd", "gputel"])).stdout.split(":");
    expect(Number(user[2])).toBeLessThan(1000); // a system user
    expect(user[6]?.trim()).toMatch(/nologin|false/);
    for (const p of PACKAGE_PATHS) expect(existsSync(p), p).toBe(true);
    expect(enableLinks()).toEqual(before);
    const gid = Number((await exec("getent", ["group", "gputel"])).stdout.split(":")[2]);
    for (const f of ["/etc/gputel/agent.yaml", "/etc/gputel/collector.yaml"]) {
      const st = statSync(f);
      expect(st.mode & 0o777, f).toBe(0o640);
      expect(st.gid, f).toBe(gid);
    }
    expect((await exec("/usr/bin/gputel", ["--version"])).stdout).toMatch(/^gputel \d+\.\d+\.\d+/);

    // Upgrade path (the same version again runs prerm upgrade and postinst configure <old>): an
    // edited conffile is kept (dpkg's default answer), with its mode; the user stays.
    const edited = `${readFileSync("/etc/gputel/agent.yaml", "utf8")}\nsite: edited-by-operator\n`;
    writeFileSync("/etc/gputel/agent.yaml", edited);
    await dpkg(["-i", "--force-confold", deb]);
    expect(readFileSync("/etc/gputel/agent.yaml", "utf8")).toBe(edited);
    expect(statSync("/etc/gputel/agent.yaml").mode & 0o777).toBe(0o640);
    expect(await ok("getent", ["passwd", "gputel"])).toBe(true);

    await dpkg(["--purge", "gputel"]);
    expect(await ok("dpkg", ["-s", "gputel"])).toBe(false);
    expect(await ok("getent", ["passwd", "gputel"])).toBe(false);
    expect(await ok("getent", ["group", "gputel"])).toBe(false);
    for (const p of PACKAGE_PATHS) expect(existsSync(p), p).toBe(false);
    expect(enableLinks()).toEqual(before);
  }, 400_000);
});
