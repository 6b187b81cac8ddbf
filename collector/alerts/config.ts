// Alert delivery configuration: plain types with defaults, durations as strings. The YAML loader
// maps onto AlertsConfig; resolveAlertsConfig turns durations into milliseconds once, at start.
import { parseDuration } from "../../shared/duration.js";
import { GputelError } from "../../shared/errors.js";

export interface RetryConfig {
  /** Requests taking longer fail and are retried (default "10s"). */
  timeout: string;
  /** First retry delay; doubled after each failure (default "1s"). */
  retryInitial: string;
  /** Retry delay ceiling (default "5m"). */
  retryMax: string;
  /** Messages waiting past this count drop the oldest, counted (default 10000). */
  maxQueue: number;
}

export interface WebhookConfig extends RetryConfig {
  /** POSTed JSON `{ version: 1, type: "opened" | "updated" | "closed", flag }`. */
  url: string;
  /** Extra request headers (for example Authorization). */
  headers: Record<string, string>;
  /** Also deliver "updated" events (throttled minutes lost growing) (default false). */
  sendUpdates: boolean;
}

export interface AlertmanagerConfig extends RetryConfig {
  /** Base URL, for example http://127.0.0.1:9093 (alerts go to `${url}/api/v2/alerts`). */
  url: string;
  /** Active alerts are re-sent this often, because Alertmanager expires alerts not refreshed (default "1m"). */
  resendInterval: string;
  /** Link in each alert (the dashboard); empty: none. */
  generatorUrl: string;
}

export interface AlertsConfig {
  webhook: WebhookConfig | null;
  alertmanager: AlertmanagerConfig | null;
}

export const DEFAULT_RETRY: RetryConfig = {
  timeout: "10s",
  retryInitial: "1s",
  retryMax: "5m",
  maxQueue: 10_000,
};
export const DEFAULT_ALERTS_CONFIG: AlertsConfig = { webhook: null, alertmanager: null };

export interface ResolvedRetry {
  timeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  maxQueue: number;
}
export interface ResolvedWebhook extends ResolvedRetry {
  url: string;
  headers: Record<string, string>;
  sendUpdates: boolean;
}
export interface ResolvedAlertmanager extends ResolvedRetry {
  url: string;
  resendIntervalMs: number;
  generatorUrl: string;
}
export interface ResolvedAlertsConfig {
  webhook: ResolvedWebhook | null;
  alertmanager: ResolvedAlertmanager | null;
}

function retry(config: RetryConfig, at: string, problems: string[]): ResolvedRetry {
  const ms = (key: "timeout" | "retryInitial" | "retryMax") => {
    const value = parseDuration(config[key]);
    if (value === undefined) problems.push(`${at}.${key}: "${config[key]}" is not a duration`);
    return value ?? 0;
  };
  if (!(config.maxQueue >= 1)) problems.push(`${at}.maxQueue: must be at least 1`);
  return {
    timeoutMs: ms("timeout"),
    retryInitialMs: ms("retryInitial"),
    retryMaxMs: ms("retryMax"),
    maxQueue: config.maxQueue,
  };
}

function checkUrl(url: string, at: string, problems: string[]): void {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      problems.push(`${at}.url: must be http or https`);
  } catch {
    problems.push(`${at}.url: "${url}" is not a URL`);
  }
}

/** Throws GPUTEL_E_CONFIG listing every problem at once. */
export function resolveAlertsConfig(config: AlertsConfig = DEFAULT_ALERTS_CONFIG): ResolvedAlertsConfig {
  const problems: string[] = [];
  let webhook: ResolvedWebhook | null = null;
  let alertmanager: ResolvedAlertmanager | null = null;
  if (config.webhook) {
    checkUrl(config.webhook.url, "alerts.webhook", problems);
    webhook = {
      ...retry(config.webhook, "alerts.webhook", problems),
      url: config.webhook.url,
      headers: config.webhook.headers,
      sendUpdates: config.webhook.sendUpdates,
    };
  }
  if (config.alertmanager) {
    const am = config.alertmanager;
    checkUrl(am.url, "alerts.alertmanager", problems);
    const resendIntervalMs = parseDuration(am.resendInterval);
    if (resendIntervalMs === undefined || resendIntervalMs <= 0) {
      problems.push(`alerts.alertmanager.resendInterval: "${am.resendInterval}" is not a positive duration`);
    }
    alertmanager = {
      ...retry(am, "alerts.alertmanager", problems),
      url: am.url.replace(/\/+$/, ""),
      resendIntervalMs: resendIntervalMs ?? 60_000,
      generatorUrl: am.generatorUrl,
    };
  }
  if (problems.length > 0) {
    throw new GputelError("GPUTEL_E_CONFIG", `Invalid alerts configuration: ${problems.join("; ")}`, {
      problems,
    });
  }
  return { webhook, alertmanager };
}
