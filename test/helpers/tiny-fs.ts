// A really full disk for tests: a small tmpfs mounted in a user and mount namespace of its own
// (`unshare --user --map-root-user --mount`, no root needed where the kernel allows unprivileged
// user namespaces), with a TypeScript child (vite-node) run inside it. SQLite's max_page_count
// bounds the database file only; this also fills the WAL, as a full file system does.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

const VITE_NODE = join(process.cwd(), "node_modules", "vite-node", "vite-node.mjs");

/** Whether this machine lets us mount a tmpfs in a namespace of our own; says why not otherwise. */
export function tinyFsAvailable(): boolean {
  const probe = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"], { stdio: "ignore" });
  if (probe.status === 0) return true;
  console.warn("Full-disk tests skipped: `unshare --user --map-root-user --mount` is not allowed here");
  return false;
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Mounts a tmpfs of `size` (e.g. "8m") on `dir` (an empty directory) and runs the TypeScript file
 * `script` there with `dir` as its first argument; the mount goes away with the child.
 */
export function runOnTinyFs(dir: string, size: string, script: string): Promise<ChildResult> {
  const child = spawn(
    "unshare",
    [
      "--user",
      "--map-root-user",
      "--mount",
      "sh",
      "-c",
      'mount -t tmpfs -o size="$1" tmpfs "$2" && exec "$3" "$4" "$5" -- "$2"',
      "sh",
      size,
      dir,
      process.execPath,
      VITE_NODE,
      script,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}
