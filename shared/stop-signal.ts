// The daemons' shutdown: SIGTERM (systemd) or SIGINT (a terminal) stops once; a second signal
// while stopping, as a terminal's Ctrl-C during a systemd stop, is only logged.
import type { Logger } from "./logger.js";

/** Resolves once `stop` has finished after the first SIGTERM or SIGINT. */
export function stopOnSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.info({ signal }, "Already stopping");
        return;
      }
      stopping = true;
      logger.info({ signal }, "Stopping");
      void stop().finally(resolve);
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
}
