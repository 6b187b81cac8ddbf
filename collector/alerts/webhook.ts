// Webhook delivery: each flag opening and closing (and, when asked, update) is POSTed as JSON,
// through a bounded queue with retries, so a slow or failing receiver never blocks ingest.
import type { Logger } from "../../shared/logger.js";
import { LogThrottle } from "../../shared/logger.js";
import type { FlagEvent } from "../flags/types.js";
import type { ResolvedWebhook } from "./config.js";
import { DeliveryQueue, type DeliveryStats } from "./delivery-queue.js";
import { postJson } from "./http-post.js";

export interface WebhookPayload {
  version: 1;
  type: FlagEvent["type"];
  flag: FlagEvent["flag"];
}

export class WebhookNotifier {
  private readonly queue: DeliveryQueue<WebhookPayload>;
  private readonly throttle = new LogThrottle(60_000);

  constructor(
    private readonly config: ResolvedWebhook,
    private readonly log: Logger,
  ) {
    this.queue = new DeliveryQueue({
      send: (payload) => postJson(config.url, payload, config.timeoutMs, config.headers),
      maxQueue: config.maxQueue,
      retryInitialMs: config.retryInitialMs,
      retryMaxMs: config.retryMaxMs,
      onFailure: (error, attempt) => {
        const suppressed = this.throttle.admit("webhook");
        if (suppressed !== undefined)
          this.log.warn({ err: error, attempt, suppressed, url: config.url }, "Webhook delivery failed");
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  handle(event: FlagEvent): void {
    if (event.type === "updated" && !this.config.sendUpdates) return;
    this.queue.push({ version: 1, type: event.type, flag: event.flag });
  }

  stats(): DeliveryStats {
    return this.queue.stats();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}
