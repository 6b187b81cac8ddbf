// Maps the YAML `alerts` section onto the alert delivery types and starts delivery of flag
// openings and closings (webhook, Alertmanager v2), never blocking ingest.
import type { Logger } from "../shared/logger.js";
import { type AlertsConfig, DEFAULT_RETRY, resolveAlertsConfig } from "./alerts/config.js";
import { AlertDispatcher } from "./alerts/dispatcher.js";
import type { CollectorConfig } from "./config.js";
import type { AlertDeliveryCounters } from "./contract/api-contract.js";
import type { FlagEngine } from "./flags/engine.js";

export function toAlertsConfig(config: CollectorConfig): AlertsConfig {
  const { webhook, alertmanager } = config.alerts;
  const dashboard = `http://${config.http.listen}/`;
  return {
    webhook: webhook.url
      ? { ...DEFAULT_RETRY, timeout: webhook.timeout, url: webhook.url, headers: {}, sendUpdates: false }
      : null,
    alertmanager: alertmanager.url
      ? {
          ...DEFAULT_RETRY,
          url: alertmanager.url,
          resendInterval: alertmanager.resend,
          generatorUrl: dashboard,
        }
      : null,
  };
}

export function startAlerts(
  config: CollectorConfig,
  flags: FlagEngine,
  logger: Logger,
): { stop(): Promise<void>; counters(): AlertDeliveryCounters[] } {
  const dispatcher = new AlertDispatcher(flags, resolveAlertsConfig(toAlertsConfig(config)), logger);
  dispatcher.start();
  return {
    async stop() {
      dispatcher.stop();
    },
    counters: () => dispatcher.counters(),
  };
}
