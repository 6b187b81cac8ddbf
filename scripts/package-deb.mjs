#!/usr/bin/env node
// `npm run package:deb`: builds gputel_<version>_<arch>.deb with dpkg-deb from the built dist/ and
// the production part of this checkout's node_modules. The architecture is that of the
// better-sqlite3 native module npm built here, so build the package on a machine of the target
// architecture (an arm64 .deb on arm64). Files: packaging/debian/; layout: packaging/debian/README.md.
// Options: --out DIR (default dist-deb/), --skip-build (use the dist/ already built).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const here = join(root, "packaging", "debian");
const args = process.argv.slice(2);
const outDir = resolve(root, optionValue("--out") ?? "dist-deb");
const NATIVE = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
// Not needed to run, and flagged by lintian (lint configs, .npmignore, python/bash test tools,
// docs pages that load remote scripts): dotfiles anywhere in a package, and these top-level entries.
const DEV_ONLY = new Set(["test", "tests", "__tests__", "benchmark", "benchmarks", "bench", "docs", "doc"]);
for (const n of ["docsify", "example", "examples", "integration", "tools", "coverage", "index.html"])
  DEV_ONLY.add(n);
// ELF e_machine → Debian architecture name.
const ELF_ARCH = { 62: "amd64", 183: "arm64", 40: "armhf", 243: "riscv64", 21: "ppc64el", 22: "s390x" };

function optionValue(flag) {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function run(cmd, cmdArgs, options = {}) {
  return execFileSync(cmd, cmdArgs, { cwd: root, encoding: "utf8", ...options });
}

function elfArch(file) {
  const fd = openSync(file, "r");
  const head = Buffer.alloc(20);
  readSync(fd, head, 0, 20, 0);
  closeSync(fd);
  if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF object`);
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  const arch = ELF_ARCH[machine];
  if (!arch) throw new Error(`${file}: ELF machine ${machine} has no Debian architecture here`);
  return arch;
}

/**
 * The nodejs versions that can load the native module. better-sqlite3 is built against one Node.js
 * ABI (NODE_MODULE_VERSION, one per major release) and node refuses a module of another ABI, so
 * the package names the one major it was built for: a package built on Node 20 installed beside
 * Node 22 would otherwise install cleanly and fail at the first database open.
 */
function nodejsDepends(native) {
  const match = /node_register_module_v(\d+)/.exec(readFileSync(native, "latin1"));
  if (!match) throw new Error(`${native} names no Node.js ABI (node_register_module_v<N>)`);
  if (match[1] !== process.versions.modules)
    throw new Error(
      `${native} was built for Node.js ABI ${match[1]}, this node (${process.version}) has ABI ${process.versions.modules}: run \`npm rebuild better-sqlite3\` with the node the package is for`,
    );
  const major = Number(process.versions.node.split(".")[0]);
  return `nodejs (>= ${major}), nodejs (<< ${major + 1})`;
}

/** The production packages' folders, relative to the root (nested node_modules listed on their own). */
function productionPackages() {
  const out = run("npm", ["ls", "--omit=dev", "--all", "--parseable"], { maxBuffer: 16 << 20 });
  return out
    .split("\n")
    .filter((line) => line !== "" && line !== root.replace(/\/$/, ""))
    .map((line) => relative(root, line))
    .filter((rel) => rel.startsWith("node_modules"));
}

/** Sets 0755 on folders and on files that start with "#!", 0644 on the rest (npm modes vary). */
function normaliseModes(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      normaliseModes(path);
      continue;
    }
    const fd = openSync(path, "r");
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    closeSync(fd);
    chmodSync(path, n === 2 && head.toString() === "#!" ? 0o755 : 0o644);
  }
}

function duKiB(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const st = lstatSync(join(entry.parentPath ?? entry.path, entry.name));
    bytes += Math.ceil(st.size / 1024) * 1024;
  }
  return Math.ceil(bytes / 1024);
}

/** shlibs:Depends of the native module (libc6, libstdc++6, libgcc-s1) from dpkg-shlibdeps. */
function sharedLibraryDepends(native) {
  const work = mkdtempSync(join(tmpdir(), "gputel-shlibdeps-"));
  try {
    mkdirSync(join(work, "debian"));
    writeFileSync(join(work, "debian", "control"), "Source: gputel\n\nPackage: gputel\nArchitecture: any\n");
    // Its warnings about V8 symbols ("probably a plugin") are expected: node provides them.
    const out = run("dpkg-shlibdeps", ["-O", native], { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
    const match = /shlibs:Depends=(.*)/.exec(out);
    if (!match) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${out}`);
    return match[1].trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A native package's changelog.gz is read as a Debian changelog: one entry for this version. */
function debianChangelog(version) {
  const control = readFileSync(join(here, "control.in"), "utf8");
  const maintainer = /^Maintainer: (.*)$/m.exec(control)?.[1];
  // The last commit's date keeps the file the same for the same source.
  let date;
  try {
    date = run("git", ["log", "-1", "--format=%aD"], { stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    date = new Date().toUTCString().replace("GMT", "+0000");
  }
  return `gputel (${version}) unstable; urgency=medium

  * Release ${version}; the changes are listed in CHANGELOG.md.gz beside this file.

 -- ${maintainer}  ${date}
`;
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (!args.includes("--skip-build")) run("npm", ["run", "build"], { stdio: "inherit" });
if (!existsSync(join(root, "dist/cli/main.js"))) throw new Error("dist/ is missing: run `npm run build`");
if (!existsSync(join(root, NATIVE))) throw new Error(`${NATIVE} is missing: run \`npm ci\` first`);
const arch = elfArch(join(root, NATIVE));
const name = `gputel_${pkg.version}_${arch}`;
const stage = mkdtempSync(join(tmpdir(), "gputel-deb-"));
const tree = join(stage, name);
const lib = join(tree, "usr/lib/gputel");

try {
  // The program: package.json (name, version, "type": "module"), the launcher and dist/.
  mkdirSync(join(lib, "bin"), { recursive: true });
  cpSync(join(root, "package.json"), join(lib, "package.json"));
  cpSync(join(root, "bin/gputel"), join(lib, "bin/gputel"));
  cpSync(join(root, "dist"), join(lib, "dist"), { recursive: true });
  for (const rel of productionPackages()) {
    const from = join(root, rel);
    cpSync(from, join(lib, rel), {
      recursive: true,
      // Nested node_modules are copied from their own entry in the list (only production ones).
      filter: (src) => {
        if (src === from) return true;
        const parts = relative(from, src).split("/");
        if (parts.includes("node_modules")) return false;
        return !parts.some((p) => p.startsWith(".")) && !DEV_ONLY.has(parts[0] ?? "");
      },
    });
  }
  // better-sqlite3: keep only the loadable module, stripped; drop its C sources and build tree.
  const sqlite = join(lib, "node_modules/better-sqlite3");
  for (const rel of ["deps", "src", "binding.gyp", "build"]) rmSync(join(sqlite, rel), { recursive: true });
  mkdirSync(join(sqlite, "build/Release"), { recursive: true });
  cpSync(join(root, NATIVE), join(lib, NATIVE));
  run("strip", [
    "--strip-unneeded",
    "--remove-section=.comment",
    "--remove-section=.note",
    join(lib, NATIVE),
  ]);

  mkdirSync(join(tree, "usr/bin"), { recursive: true });
  const systemd = join(tree, "lib/systemd/system");
  mkdirSync(systemd, { recursive: true });
  // The units, and beside the program the templates `gputel agent|collector install` reads
  // (it looks for systemd/ above its own code, as in a checkout).
  mkdirSync(join(lib, "systemd"));
  for (const unit of ["gputel-agent.service", "gputel-collector.service"]) {
    cpSync(join(root, "systemd", unit), join(systemd, unit));
    cpSync(join(root, "systemd", unit), join(lib, "systemd", unit));
  }
  mkdirSync(join(tree, "etc/gputel"), { recursive: true });
  for (const program of ["agent", "collector"])
    cpSync(join(root, `deploy/examples/${program}.yaml`), join(tree, `etc/gputel/${program}.yaml`));
  const doc = join(tree, "usr/share/doc/gputel");
  mkdirSync(doc, { recursive: true });
  cpSync(join(here, "copyright"), join(doc, "copyright"));
  writeFileSync(join(doc, "changelog.gz"), gzipSync(debianChangelog(pkg.version), { level: 9 }));
  writeFileSync(
    join(doc, "CHANGELOG.md.gz"),
    gzipSync(readFileSync(join(root, "CHANGELOG.md")), { level: 9 }),
  );
  normaliseModes(tree);
  symlinkSync("../lib/gputel/bin/gputel", join(tree, "usr/bin/gputel"));

  const control = join(tree, "DEBIAN");
  mkdirSync(control);
  const fields = {
    "@VERSION@": pkg.version,
    "@ARCH@": arch,
    "@INSTALLED_SIZE@": String(duKiB(tree)),
    "@NODEJS@": nodejsDepends(join(lib, NATIVE)),
    "@LIBC@": sharedLibraryDepends(join(lib, NATIVE)),
  };
  const template = readFileSync(join(here, "control.in"), "utf8");
  writeFileSync(
    join(control, "control"),
    template.replace(/@[A-Z_]+@/g, (key) => {
      if (!(key in fields)) throw new Error(`control.in: unknown placeholder ${key}`);
      return fields[key];
    }),
  );
  cpSync(join(here, "conffiles"), join(control, "conffiles"));
  for (const script of ["postinst", "prerm", "postrm"]) {
    cpSync(join(here, script), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  const sums = run("find", [".", "-type", "f", "-not", "-path", "./DEBIAN/*", "-not", "-path", "./etc/*"], {
    cwd: tree,
  })
    .split("\n")
    .filter(Boolean)
    .sort()
    .map((f) => f.slice(2));
  const md5 = sums.length > 0 ? run("md5sum", sums, { cwd: tree, maxBuffer: 64 << 20 }) : "";
  writeFileSync(join(control, "md5sums"), md5);
  chmodSync(join(control, "md5sums"), 0o644);
  chmodSync(join(control, "conffiles"), 0o644);
  chmodSync(join(control, "control"), 0o644);

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `${name}.deb`);
  run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", tree, deb], { stdio: "inherit" });
  process.stdout.write(`${relative(process.cwd(), deb) || deb}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
