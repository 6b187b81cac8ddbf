// Another process holding a database's write lock, as an operator's `sqlite3` shell in a
// transaction, a backup or `gputel export` can: what the collector's writes must not stall on.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { waitFor } from "./net.js";

export interface WriteLock {
  /** Ends the other process, and with it the lock. */
  release(): Promise<void>;
}

/** A second process that takes the write lock (BEGIN IMMEDIATE) and holds it until released. */
export async function holdWriteLock(path: string): Promise<WriteLock> {
  const script = `const db = new (require("better-sqlite3"))(${JSON.stringify(path)});
db.exec("BEGIN IMMEDIATE");
process.stdout.write("LOCKED\\n");
setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const release = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  try {
    await waitFor(() => out.includes("LOCKED"), 10_000, "the other process's write lock");
  } catch (error) {
    await release();
    throw error;
  }
  return { release };
}
