// The real collector as a child process, for tests that measure its memory. Run with vite-node:
//   vite-node test/security/collector-child.ts -- '<config overrides as JSON>'
// Prints "READY" once it listens; SIGTERM stops it cleanly.
import { loadCollectorConfig } from "../../collector/config.js";
import { startCollector } from "../../collector/run.js";
import { silentLogger } from "../../shared/logger.js";

const overrides = JSON.parse(process.argv.slice(2).filter((a) => a !== "--")[0] ?? "{}") as Record<
  string,
  unknown
>;
const loaded = loadCollectorConfig({ env: {}, overrides });
if (!loaded.ok) throw new Error(`collector config: ${JSON.stringify(loaded.problems)}`);
const collector = await startCollector(loaded.config, silentLogger());
process.stdout.write("READY\n");
process.once("SIGTERM", () => {
  void collector.stop().then(() => process.exit(0));
});
