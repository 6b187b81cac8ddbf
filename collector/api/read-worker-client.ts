// Starts and talks to the read worker (read-worker.ts): one worker thread with its own read-only
// connection, asked with postMessage and answered in order. A worker that dies fails what it
// held (the HTTP request answers 500) and the next call starts a new one.
import { Worker } from "node:worker_threads";
import { type ErrorCode, GputelError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { ReadAnswer, ReadRequest } from "./read-requests.js";
import type { ReadWorkerData, ReadWorkerReply } from "./read-worker.js";

export interface Reader {
  call<R extends ReadRequest>(request: R): Promise<ReadAnswer<R>>;
  /** How many requests it works on at once (its threads); 1 when left out. */
  readonly threads?: number;
}

interface Pending {
  resolve(answer: unknown): void;
  reject(error: Error): void;
}

export class ReadWorker implements Reader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly log: Logger;

  constructor(
    private readonly data: ReadWorkerData,
    logger: Logger,
  ) {
    this.log = logger.child({ component: "collector.read-worker" });
  }

  /** Requests asked and not answered yet. */
  get waiting(): number {
    return this.pending.size;
  }

  call<R extends ReadRequest>(request: R): Promise<ReadAnswer<R>> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<ReadAnswer<R>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (a: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failPending(new GputelError("GPUTEL_E_API", "The read worker stopped"));
    await worker?.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const { entry, execArgv } = workerEntry();
    const worker = new Worker(entry, { workerData: this.data, execArgv });
    worker.on("message", (reply: ReadWorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.error)
        p.reject(new GputelError(reply.error.code as ErrorCode, reply.error.message, reply.error.detail));
      else p.resolve(reply.answer);
    });
    worker.on("error", (error) => {
      this.log.error({ code: "GPUTEL_E_API", err: error.message }, "Read worker failed");
      if (this.worker === worker) this.worker = undefined;
      this.failPending(new GputelError("GPUTEL_E_API", `The read worker failed: ${error.message}`));
    });
    worker.on("exit", (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log.warn({ exitCode: code }, "Read worker exited");
      this.failPending(new GputelError("GPUTEL_E_API", `The read worker exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private failPending(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/**
 * The worker's module next to this one: built JavaScript in dist/; run from the TypeScript
 * sources (vitest, vite-node benches), a small loader hook compiles it (scripts/).
 */
function workerEntry(): { entry: URL; execArgv: string[] } {
  if (import.meta.url.endsWith(".ts")) {
    return {
      entry: new URL("./read-worker.ts", import.meta.url),
      execArgv: ["--import", new URL("../../scripts/ts-worker-loader.mjs", import.meta.url).href],
    };
  }
  return { entry: new URL("./read-worker.js", import.meta.url), execArgv: [] };
}
