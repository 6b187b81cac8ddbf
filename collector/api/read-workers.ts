// Several read workers (read-worker-client.ts) behind one Reader: a request goes to the worker
// with the fewest waiting, so a long report on one does not hold up the others, and a request
// cut in parts (the summary's aggregate, store-backend.ts) runs its parts side by side.
import { availableParallelism } from "node:os";
import type { Logger } from "../../shared/logger.js";
import type { ReadAnswer, ReadRequest } from "./read-requests.js";
import type { ReadWorkerData } from "./read-worker.js";
import { type Reader, ReadWorker } from "./read-worker-client.js";

/**
 * Read threads a collector starts unless `http.read_threads` says: two where there are two cores.
 * Each holds its own connection, page cache and copy of the unsealed samples (about 190 MB
 * resident, 100 MB of it anonymous, at 10,000 GPUs sending every second), so more than two is the operator's choice, not a default.
 */
export function readThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export class ReadWorkers implements Reader {
  readonly threads: number;
  private readonly workers: ReadWorker[];

  constructor(data: ReadWorkerData, logger: Logger, threads = readThreads()) {
    this.threads = Math.max(1, Math.floor(threads));
    this.workers = Array.from({ length: this.threads }, () => new ReadWorker(data, logger));
  }

  /** Requests waiting on each thread, in order. */
  get waiting(): number[] {
    return this.workers.map((w) => w.waiting);
  }

  call<R extends ReadRequest>(request: R): Promise<ReadAnswer<R>> {
    let best = this.workers[0] as ReadWorker;
    for (const w of this.workers) if (w.waiting < best.waiting) best = w;
    return best.call(request);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
