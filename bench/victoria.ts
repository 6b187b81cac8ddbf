// A throwaway VictoriaMetrics (Debian's `victoria-metrics`) for the side-by-side bench: started
// on a free loopback port with its own temp storage directory, fed through /api/v1/import
// (JSON lines), flushed, measured on disk, stopped.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const VICTORIA_BIN = process.env.GPUTEL_VICTORIA_BIN ?? "/usr/bin/victoria-metrics";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function call(port: number, method: string, path: string, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 300) reject(new Error(`${method} ${path}: ${status} ${Buffer.concat(chunks)}`));
        else resolve(status);
      });
    });
    req.once("error", reject);
    req.end(body);
  });
}

function dirBytes(path: string): number {
  if (!existsSync(path)) return 0;
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

export class Victoria {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<Victoria> {
    const dir = mkdtempSync(join(tmpdir(), "gputel-bench-vm-"));
    const port = await freePort();
    const child = spawn(
      VICTORIA_BIN,
      [
        `-storageDataPath=${dir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        "-retentionPeriod=100y", // the synthetic fleet starts in January
        "-loggerLevel=ERROR",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const vm = new Victoria(child, dir, port);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`victoria-metrics exited with ${child.exitCode}`);
      try {
        await call(port, "GET", "/health");
        return vm;
      } catch (error) {
        if (Date.now() > deadline) {
          await vm.stop();
          throw error;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** One /api/v1/import request (JSON lines). */
  async importLines(body: Buffer): Promise<void> {
    await call(this.port, "POST", "/api/v1/import", body);
  }

  /** Makes every imported sample searchable and written to disk parts. */
  async flush(): Promise<void> {
    await call(this.port, "GET", "/internal/force_flush");
  }

  /**
   * Stops it cleanly (SIGTERM writes its in-memory parts to disk; force_flush alone leaves
   * recent parts in memory) and returns the bytes of its data and index directories.
   */
  async stopAndMeasure(): Promise<number> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
    return dirBytes(join(this.dir, "data")) + dirBytes(join(this.dir, "indexdb"));
  }

  async stop(): Promise<void> {
    await this.stopAndMeasure();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
