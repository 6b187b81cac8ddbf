// Wires the flag engine's events to the configured notifiers. Listeners only enqueue, so the
// engine (and ingest behind it) never waits for a receiver.
import type { Logger } from "../../shared/logger.js";
import type { AlertDeliveryCounters } from "../contract/api-contract.js";
import type { Flag, FlagListener } from "../flags/types.js";
import { AlertmanagerNotifier } from "./alertmanager.js";
import type { ResolvedAlertsConfig } from "./config.js";
import { WebhookNotifier } from "./webhook.js";

/** What the dispatcher needs from the flag engine. */
export interface FlagSource {
  subscribe(listener: FlagListener): () => void;
  openFlags(): Flag[];
}

export class AlertDispatcher {
  readonly webhook: WebhookNotifier | null;
  readonly alertmanager: AlertmanagerNotifier | null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly source: FlagSource,
    config: ResolvedAlertsConfig,
    logger: Logger,
  ) {
    const log = logger.child({ component: "collector.alerts" });
    this.webhook = config.webhook ? new WebhookNotifier(config.webhook, log) : null;
    this.alertmanager = config.alertmanager ? new AlertmanagerNotifier(config.alertmanager, log) : null;
  }

  start(): void {
    this.webhook?.start();
    this.alertmanager?.start(this.alertmanager ? this.source.openFlags() : []);
    this.unsubscribe = this.source.subscribe((event) => {
      this.webhook?.handle(event);
      this.alertmanager?.handle(event);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.webhook?.stop();
    this.alertmanager?.stop();
  }

  stats() {
    return { webhook: this.webhook?.stats() ?? null, alertmanager: this.alertmanager?.stats() ?? null };
  }

  /** Each configured receiver's counters, for /metrics. */
  counters(): AlertDeliveryCounters[] {
    const out: AlertDeliveryCounters[] = [];
    const { webhook, alertmanager } = this.stats();
    if (webhook) out.push({ receiver: "webhook", ...webhook });
    if (alertmanager) {
      const { active: _active, ...counts } = alertmanager;
      out.push({ receiver: "alertmanager", ...counts });
    }
    return out;
  }
}
