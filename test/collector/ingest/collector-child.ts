// A collector in external-broker mode as a child process, for the kill test. Run with vite-node:
//   vite-node test/collector/ingest/collector-child.ts -- <db-path> <mqtt-url>
// Prints "READY" once subscribed and "COMMITTED <total frames>" after each commit; SIGTERM stops cleanly.
import { ExternalBroker } from "../../../collector/broker/external.js";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import { Store } from "../../../collector/store/store.js";
import { silentLogger } from "../../../shared/logger.js";

const args = process.argv.slice(2).filter((a) => a !== "--");
const [dbPath, url] = args;
if (!dbPath || !url) throw new Error("usage: collector-child.ts <db-path> <mqtt-url>");

const store = Store.open(dbPath);
let committed = 0;
const pipeline = new IngestPipeline({
  sink: store,
  logger: silentLogger(),
  maxDelayMs: 5,
  onCommitted: ({ frames }) => {
    if (frames.length === 0) return;
    committed += frames.length;
    process.stdout.write(`COMMITTED ${committed}\n`);
  },
});
pipeline.start();
const broker = new ExternalBroker({
  url,
  ingest: pipeline,
  logger: silentLogger(),
  clientId: "kill-test-collector",
  reconnectMinMs: 100,
});
await broker.start();
process.stdout.write("READY\n");

process.once("SIGTERM", () => {
  void (async () => {
    await pipeline.stop(); // commits what waits; the acks go out before the clean disconnect
    await broker.stop();
    store.close();
    process.exit(0);
  })();
});
