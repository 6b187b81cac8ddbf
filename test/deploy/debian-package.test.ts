// The Debian package: `npm run package:deb` (--skip-build: the suite builds dist/ first), its
// control fields and contents (`dpkg-deb -f`, `-c`), then the package unpacked into a scratch
// root (`dpkg-deb -x`) runs: `gputel --version`, the bundled better-sqlite3 native module, and
// `gputel agent --once --json` over a replayed nvidia-smi capture, and the packaged collector
// storing what the packaged agent sends. lintian: no errors, and every
// warning it still gives is listed with its reason in packaging/debian/README.md.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { freePort, waitFor } from "../helpers/net.js";
import { toolAvailable } from "../helpers/tools.js";

const exec = promisify(execFile);
const H100 = join(
  ROOT,
  "test/fixtures/nvidia-smi/captures/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
);
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

const haveDpkg = toolAvailable({
  bins: ["/usr/bin/dpkg-deb", "/usr/bin/dpkg-shlibdeps"],
  require: "DPKG_DEV",
  apt: "dpkg-dev",
  what: "Debian package tests",
});
const haveLintian =
  haveDpkg &&
  toolAvailable({ bins: ["/usr/bin/lintian"], require: "LINTIAN", apt: "lintian", what: "lintian check" });

let work: string;
let deb: string;

async function dpkgDeb(...args: string[]): Promise<string> {
  return (await exec("dpkg-deb", args, { maxBuffer: 64 << 20 })).stdout;
}

let shared: Promise<string> | undefined;
/** One unpacked copy for the tests that only read it (each copy is thousands of files to delete). */
function sharedRoot(): Promise<string> {
  shared ??= (async () => {
    const root = mkdtempSync(join(work, "shared-"));
    await dpkgDeb("-x", deb, root);
    return root;
  })();
  return shared;
}

describe.skipIf(!haveDpkg)("Debian package", () => {
  beforeAll(async () => {
    assertBuilt();
    work = mkdtempSync(join(tmpdir(), "gputel-deb-test-"));
    await exec(
      process.execPath,
      [join(ROOT, "scripts/package-deb.mjs"), "--skip-build", "--out", join(work, "out")],
      {
        cwd: ROOT,
        maxBuffer: 16 << 20,
      },
    );
    const built = readdirSync(join(work, "out"));
    expect(built).toHaveLength(1);
    deb = join(work, "out", built[0] as string);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("is named gputel_<version>_<arch>.deb with the control fields operators rely on", async () => {
    const arch = (await exec("dpkg", ["--print-architecture"])).stdout.trim();
    expect(deb.endsWith(`/gputel_${VERSION}_${arch}.deb`)).toBe(true);
    const info = await dpkgDeb("-I", deb);
    const field = async (name: string) => (await dpkgDeb("-f", deb, name)).trim();
    expect(await field("Package")).toBe("gputel");
    expect(await field("Version")).toBe(VERSION);
    expect(await field("Architecture")).toBe(arch);
    const depends = (await field("Depends")).split(/,\s*/);
    expect(depends).toContain("nodejs (>= 20)");
    expect(depends).toContain("adduser");
    expect(depends.some((d) => /^libc6 \(>= [\d.]+\)$/.test(d))).toBe(true);
    for (const script of ["postinst", "prerm", "postrm", "conffiles", "md5sums"])
      expect(info).toContain(script);
    const control = mkdtempSync(join(work, "control-"));
    await dpkgDeb("-e", deb, control);
    expect(readFileSync(join(control, "conffiles"), "utf8").trim().split("\n").sort()).toEqual([
      "/etc/gputel/agent.yaml",
      "/etc/gputel/collector.yaml",
    ]);
    // The user comes from postinst; purge removes it.
    expect(readFileSync(join(control, "postinst"), "utf8")).toMatch(/adduser --system --group .* gputel/);
    expect(readFileSync(join(control, "postrm"), "utf8")).toMatch(/deluser --system .*gputel/);
  });

  it("Depends admits only the nodejs major whose ABI the packaged native module was built for", async () => {
    const scratch = await sharedRoot();
    const native = readFileSync(
      join(scratch, "usr/lib/gputel/node_modules/better-sqlite3/build/Release/better_sqlite3.node"),
      "latin1",
    );
    // node loads a module only if its NODE_MODULE_VERSION is node's own (one per major release).
    expect(/node_register_module_v(\d+)/.exec(native)?.[1]).toBe(process.versions.modules);
    const nodejs = (await dpkgDeb("-f", deb, "Depends"))
      .split(/,\s*/)
      .map((d) => /^nodejs \((<<|<=|>=|>>|=) ([^)]+)\)$/.exec(d.trim()))
      .filter((m): m is RegExpExecArray => m !== null);
    const admits = async (version: string) => {
      for (const [, op, bound] of nodejs) {
        const dpkgOp = { "<<": "lt", "<=": "le", ">=": "ge", ">>": "gt", "=": "eq" }[op as string] as string;
        const ok = await exec("dpkg", ["--compare-versions", version, dpkgOp, bound as string]).then(
          () => true,
          () => false,
        );
        if (!ok) return false;
      }
      return true;
    };
    const major = Number(process.versions.node.split(".")[0]);
    // NodeSource's and Debian's version strings for this node and for the next majors.
    expect(await admits(`${process.versions.node}-1nodesource1`)).toBe(true);
    expect(await admits(`${process.versions.node}+dfsg-1`)).toBe(true);
    expect(await admits(`${major + 1}.0.0-1nodesource1`)).toBe(false);
    expect(await admits(`${major + 2}.1.0+dfsg-1`)).toBe(false);
    expect(await admits(`${major - 1}.9.0-1nodesource1`)).toBe(false);
  });

  it("holds the program, production node_modules only, both units (not enabled) and the configs", async () => {
    const listing = (await dpkgDeb("-c", deb)).split("\n").filter(Boolean);
    const paths = listing.map((line) => line.split(/\s+/).slice(5).join(" "));
    const has = (p: string) => paths.some((x) => x === p || x.startsWith(`${p} `));
    expect(has("./usr/bin/gputel -> ../lib/gputel/bin/gputel")).toBe(true);
    for (const p of [
      "./usr/lib/gputel/bin/gputel",
      "./usr/lib/gputel/dist/cli/main.js",
      "./usr/lib/gputel/dist/collector/migrations/",
      "./usr/lib/gputel/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      "./usr/lib/gputel/node_modules/fastify/package.json",
      "./lib/systemd/system/gputel-agent.service",
      "./lib/systemd/system/gputel-collector.service",
      "./etc/gputel/agent.yaml",
      "./etc/gputel/collector.yaml",
      "./usr/share/doc/gputel/copyright",
    ])
      expect(has(p), p).toBe(true);
    for (const dev of [
      "vitest",
      "typescript",
      "@biomejs",
      "playwright-core",
      "fast-check",
      "kubernetes-models",
    ])
      expect(
        paths.some((p) => p.startsWith(`./usr/lib/gputel/node_modules/${dev}/`)),
        dev,
      ).toBe(false);
    // Installed, not enabled: no links under /etc/systemd/system.
    expect(paths.some((p) => p.startsWith("./etc/systemd/"))).toBe(false);
    // better-sqlite3's C sources and object files are not shipped.
    expect(paths.some((p) => p.includes("better-sqlite3/deps/"))).toBe(false);
    expect(listing.every((line) => line.split(/\s+/)[1] === "root/root")).toBe(true);
  });

  it("runs unpacked: --version, the native module, agent --once over a replayed capture", async () => {
    const scratch = mkdtempSync(join(work, "root-"));
    await dpkgDeb("-x", deb, scratch);
    const bin = join(scratch, "usr/bin/gputel");
    const env = { ...process.env, GPUTEL_LOG_LEVEL: "error" };
    const version = await exec(bin, ["--version"], { env, cwd: scratch });
    expect(version.stdout.trim()).toBe(`gputel ${VERSION}`);

    // The conffiles are valid configurations as shipped.
    for (const program of ["agent", "collector"]) {
      const check = await exec(
        bin,
        [program, "check-config", "--config", join(scratch, `etc/gputel/${program}.yaml`)],
        {
          env,
          cwd: scratch,
        },
      );
      expect(check.stdout).toContain(`gputel ${program}: configuration valid`);
    }

    const sqlite = await exec(
      process.execPath,
      [
        "-e",
        `const r = require("node:module").createRequire(process.argv[1]);
         const db = new (r("better-sqlite3"))(":memory:");
         console.log(r.resolve("better-sqlite3"), db.prepare("select sqlite_version() as v").get().v);`,
        join(scratch, "usr/lib/gputel/package.json"),
      ],
      { cwd: scratch },
    );
    const [resolved, sqliteVersion] = sqlite.stdout.trim().split(" ");
    expect(resolved?.startsWith(join(scratch, "usr/lib/gputel/node_modules/better-sqlite3/"))).toBe(true);
    expect(sqliteVersion).toMatch(/^3\.\d+\.\d+$/);

    const once = await exec(
      bin,
      [
        "agent",
        "--once",
        "--json",
        "--host",
        "pkg-test",
        "--nvidia-smi",
        `${bin} mock-smi --replay ${H100} --`,
      ],
      { env, cwd: scratch },
    );
    const frame = JSON.parse(once.stdout) as {
      host: string;
      agent_version: string;
      gpus: { state: string; memory_total_mib: number; temperature_gpu_celsius: number }[];
    };
    expect(frame.host).toBe("pkg-test");
    expect(frame.agent_version).toBe(VERSION);
    expect(frame.gpus).toHaveLength(1);
    // The values of the H100 capture's first sample.
    expect(frame.gpus[0]).toMatchObject({
      state: "GPU_STATE_OK",
      memory_total_mib: 81559,
      temperature_gpu_celsius: 41,
    });
  }, 60_000);

  it("the packaged `gputel agent|collector install` finds the units it installs (dry run)", async () => {
    const scratch = await sharedRoot();
    const bin = join(scratch, "usr/bin/gputel");
    const target = mkdtempSync(join(work, "install-root-"));
    for (const program of ["agent", "collector"]) {
      const run = await exec(bin, [program, "install", "--dry-run", "--root", target], {
        env: { ...process.env, GPUTEL_LOG_LEVEL: "error" },
        cwd: scratch,
      }).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
      expect("code" in run ? run.code : 0, run.stderr).toBe(0);
      expect(run.stdout).toContain(`would write /etc/systemd/system/gputel-${program}.service`);
    }
  }, 60_000);

  it("the packaged collector stores what the packaged agent sends, and serves the dashboard and /metrics", async () => {
    const scratch = mkdtempSync(join(work, "run-"));
    await dpkgDeb("-x", deb, scratch);
    const bin = join(scratch, "usr/bin/gputel");
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const children: ChildProcess[] = [];
    const start = (args: string[], env: Record<string, string>) => {
      const child = spawn(bin, args, { cwd: scratch, env: { ...process.env, ...env }, stdio: "ignore" });
      children.push(child);
      return child;
    };
    try {
      start(["collector", "--config", "/dev/null"], {
        GPUTEL_DATABASE: join(scratch, "collector.db"),
        GPUTEL_BROKER_LISTEN: `127.0.0.1:${mqttPort}`,
        GPUTEL_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      });
      const url = `http://127.0.0.1:${httpPort}`;
      await waitFor(
        () =>
          fetch(`${url}/`).then(
            (r) => r.ok,
            () => false,
          ),
        30_000,
        "packaged collector",
      );
      start(
        [
          "agent",
          "--config",
          "/dev/null",
          "--host",
          "pkg-agent",
          "--broker",
          `mqtt://127.0.0.1:${mqttPort}`,
          "--interval",
          "200ms",
          "--state-dir",
          join(scratch, "spool"),
          "--nvidia-smi",
          `${bin} mock-smi --replay ${H100} --`,
        ],
        {},
      );
      let metrics = "";
      await waitFor(
        async () => {
          metrics = await (await fetch(`${url}/metrics`)).text();
          // The inventory alone lists the GPU (gputel_gpu_up 0): wait for a sample's readings.
          return metrics.includes('gputel_gpu_memory_total_bytes{host="pkg-agent"');
        },
        30_000,
        "the agent's GPU readings on /metrics",
      );
      expect(metrics).toMatch(/gputel_gpu_memory_total_bytes\{host="pkg-agent",[^}]*\} 85520809984/);
      expect((await fetch(`${url}/`)).headers.get("content-type")).toContain("text/html");
    } finally {
      for (const child of children) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      }
    }
  }, 90_000);

  it.skipIf(!haveLintian)(
    "lintian: no errors, and every warning is listed with its reason in packaging/debian/README.md",
    async () => {
      // lintian exits non-zero on errors; the tags are on stdout either way.
      const result = await exec("lintian", ["--tag-display-limit", "0", deb], { maxBuffer: 16 << 20 }).catch(
        (error: { stdout?: string; stderr?: string }) => ({
          stdout: error.stdout ?? "",
          stderr: error.stderr ?? "",
        }),
      );
      const tags = result.stdout
        .split("\n")
        .map((line) => /^([EWIPX]): gputel[^:]*: (\S+)/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null);
      expect(tags.filter((m) => m[1] === "E").map((m) => m.input)).toEqual([]);
      const readme = readFileSync(join(ROOT, "packaging/debian/README.md"), "utf8");
      for (const m of tags.filter((t) => t[1] === "W")) expect(readme, m.input).toContain(`\`${m[2]}\``);
    },
    120_000,
  );
});
