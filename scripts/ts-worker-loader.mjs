// Lets a worker thread started from the TypeScript sources (vitest, vite-node benches) load .ts
// modules: `--import` this file in the worker's execArgv (collector/api/read-worker-client.ts).
// Built code (dist/) never needs it.
import { register } from "node:module";

register("./ts-worker-hooks.mjs", import.meta.url);
