// The read worker's thread (docs/design.md §5): its own read-only connection to the collector's
// database (Store.openReader), answering heavy reads one at a time, so that a 30-day report
// never runs on the thread that commits frames and sends the PUBACKs. Started by
// read-worker-client.ts; every request runs on one snapshot (store.read).
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { type FlagsConfig, idleThresholdsFor, resolveFlagsConfig } from "../flags/config.js";
import { Store } from "../store/store.js";
import { answerRead, type ReadRequest } from "./read-requests.js";

/** How old a snapshot may be when it answers (reports, range usage): rebuilding costs seconds at 10,000 GPUs. */
export const SNAPSHOT_MS = 10_000;

export interface ReadWorkerData {
  database: string;
  retention?: readonly string[];
  flags?: FlagsConfig;
}

export interface ReadWorkerReply {
  id: number;
  answer?: unknown;
  error?: { code: string; message: string; detail?: Record<string, unknown> };
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as ReadWorkerData;
  const store = Store.openReader(data.database, {
    ...(data.retention ? { retention: data.retention } : {}),
    idleThresholds: idleThresholdsFor(resolveFlagsConfig(data.flags)),
  });
  const flags = store.flagStore();
  // One snapshot (and one rebuild of the store's memory) serves the requests of SNAPSHOT_MS;
  // when none come for that long it is let go, so the writer's checkpoints are not held back.
  let idle: NodeJS.Timeout | undefined;
  port.on("message", (message: { id: number; request: ReadRequest }) => {
    let reply: ReadWorkerReply;
    clearTimeout(idle);
    idle = setTimeout(() => store.release(), SNAPSHOT_MS);
    try {
      reply = {
        id: message.id,
        answer: store.read(() => answerRead(store, flags, message.request), SNAPSHOT_MS),
      };
    } catch (error) {
      reply = {
        id: message.id,
        error:
          error instanceof GputelError
            ? { code: error.code, message: error.message, detail: error.detail }
            : { code: "GPUTEL_E_STORE", message: errorMessage(error) },
      };
    }
    port.postMessage(reply);
  });
  port.on("close", () => store.close());
}
