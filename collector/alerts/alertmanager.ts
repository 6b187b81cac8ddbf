// Alertmanager v2 delivery: an opened flag becomes an alert (POST /api/v2/alerts), re-sent every
// resend interval while open because Alertmanager resolves alerts that are not refreshed, sent
// again when an update changes it (its reason), and once more with endsAt when the flag closes.
import type { Logger } from "../../shared/logger.js";
import { LogThrottle } from "../../shared/logger.js";
import type { Flag, FlagEvent } from "../flags/types.js";
import type { ResolvedAlertmanager } from "./config.js";
import { DeliveryQueue, type DeliveryStats } from "./delivery-queue.js";
import { postJson } from "./http-post.js";

/** The body of one alert in POST /api/v2/alerts (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

const RESERVED = new Set(["alertname", "host", "gpu", "uuid", "site", "severity"]);

/** Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*; agent labels are sanitised and never override ours. */
function labelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(name) ? name : `_${name}`;
}

export function toAlert(flag: Flag, generatorUrl = ""): PostableAlert {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(flag.labels)) {
    const name = labelName(key);
    if (!RESERVED.has(name) && value !== "") labels[name] = value;
  }
  labels.alertname = `gputel_${flag.kind.replace(/-/g, "_")}`;
  labels.host = flag.host;
  if (flag.gpuIndex !== null) labels.gpu = String(flag.gpuIndex);
  if (flag.gpuUuid !== null) labels.uuid = flag.gpuUuid;
  if (flag.site) labels.site = flag.site;
  labels.severity = flag.severity;
  const where = flag.gpuIndex !== null ? `GPU ${flag.gpuIndex} on ${flag.host}` : flag.host;
  const alert: PostableAlert = {
    labels,
    annotations: { summary: `${flag.kind} on ${where}`, description: flag.reason },
    startsAt: new Date(flag.startMs).toISOString(),
  };
  if (flag.endMs !== null) alert.endsAt = new Date(flag.endMs).toISOString();
  if (generatorUrl) alert.generatorURL = generatorUrl;
  return alert;
}

function sameAlert(a: PostableAlert, b: PostableAlert): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class AlertmanagerNotifier {
  private readonly queue: DeliveryQueue<PostableAlert[]>;
  private readonly active = new Map<number, Flag>();
  private readonly throttle = new LogThrottle(60_000);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: ResolvedAlertmanager,
    private readonly log: Logger,
  ) {
    this.queue = new DeliveryQueue({
      send: (alerts) => postJson(`${config.url}/api/v2/alerts`, alerts, config.timeoutMs),
      maxQueue: config.maxQueue,
      retryInitialMs: config.retryInitialMs,
      retryMaxMs: config.retryMaxMs,
      onFailure: (error, attempt) => {
        const suppressed = this.throttle.admit("alertmanager");
        if (suppressed !== undefined)
          this.log.warn({ err: error, attempt, suppressed, url: config.url }, "Alertmanager delivery failed");
      },
    });
  }

  /** Starts with the flags open now (after a restart they are re-sent, not re-raised). */
  start(openFlags: readonly Flag[]): void {
    for (const flag of openFlags) this.active.set(flag.id, flag);
    this.queue.start();
    this.resend();
    this.timer = setInterval(() => this.resend(), this.config.resendIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.queue.stop();
  }

  handle(event: FlagEvent): void {
    const { flag } = event;
    if (event.type === "closed") {
      this.active.delete(flag.id);
      this.queue.push([toAlert(flag, this.config.generatorUrl)]);
      return;
    }
    const before = this.active.get(flag.id);
    this.active.set(flag.id, flag);
    const alert = toAlert(flag, this.config.generatorUrl);
    // An update that leaves the alert as Alertmanager has it (an Xid flag counting one more Xid)
    // is not posted: the resend keeps it alive, and an Xid storm would otherwise fill the queue.
    if (event.type === "updated" && before && sameAlert(toAlert(before, this.config.generatorUrl), alert))
      return;
    this.queue.push([alert]);
  }

  /** Re-sends every active alert in one request; skipped while earlier sends are still queued. */
  resend(): void {
    if (this.active.size === 0 || this.queue.stats().queued > 0) return;
    this.queue.push([...this.active.values()].map((f) => toAlert(f, this.config.generatorUrl)));
  }

  stats(): DeliveryStats & { active: number } {
    return { ...this.queue.stats(), active: this.active.size };
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}
