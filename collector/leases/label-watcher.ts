// Applies `leases.from_label` to committed frames (collector/run.ts calls onFrames after each
// commit). A map remembers each device's last seen value, so a frame whose label did not change
// costs one map lookup per GPU; only a change (or the first frame of a device since start, or a
// minute on while a manual lease holds it) reads the lease in force, and only a real change
// writes, in one transaction with its history.
import { errorMessage } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { ValidFrame } from "../ingest/validate.js";
import { decideFromLabel } from "./from-label.js";
import type { LeaseService } from "./service.js";

const ACTOR = "from_label";
const RETRY_MS = 60_000;

export class LabelLeaseWatcher {
  /** Per device: the value last acted on, when, and the time after which to look again. */
  private readonly seen = new Map<string, { value: string | undefined; atMs: number; recheckMs: number }>();
  private readonly warned = new Set<string>();
  /** Label-driven lease changes and refusals since start (tests, logs). */
  readonly counts = { started: 0, ended: 0, refused: 0 };
  private readonly log: Logger;

  constructor(
    private readonly leases: LeaseService,
    private readonly key: string,
    logger: Logger,
  ) {
    this.log = logger.child({ component: "collector.leases" });
  }

  onFrames(frames: readonly ValidFrame[]): void {
    for (const frame of frames) {
      // Own keys only: a label key such as "constructor" must not read Object.prototype.
      const labels = frame.labels ?? {};
      const value = Object.hasOwn(labels, this.key) ? labels[this.key] : undefined;
      for (const gpu of frame.gpus ?? [])
        if (gpu.uuid) this.observe(gpu.uuid, value, frame.timestamp_ms, frame.host);
    }
  }

  private observe(device: string, value: string | undefined, atMs: number, host: string): void {
    const last = this.seen.get(device);
    if (last && (atMs < last.atMs || (last.value === value && atMs < last.recheckMs))) return;
    const current = this.leases.inForce(device, atMs);
    const decision = decideFromLabel(current, value, atMs);
    // A manual lease holds the device until its end: look again then, and at least a minute on,
    // since an operator may end an open lease (or move its end earlier) at any time.
    const recheckMs =
      decision.kind === "ignore" && decision.reason === "manual_lease"
        ? Math.min(current?.endMs ?? Number.POSITIVE_INFINITY, atMs + RETRY_MS)
        : (current?.endMs ?? Number.POSITIVE_INFINITY);
    this.seen.set(device, { value, atMs, recheckMs });
    if (decision.kind === "ignore") {
      this.warnOnce(device, { host, device, reason: decision.reason, value }, "Label not applied to leases");
      return;
    }
    if (decision.kind !== "change") return;
    try {
      this.leases.transaction(() => {
        if (decision.end !== undefined) this.leases.end(decision.end, atMs, ACTOR, atMs);
        if (decision.start !== undefined)
          this.leases.create({ device, tenant: decision.start, start: atMs }, ACTOR, "label");
      });
      if (decision.end !== undefined) this.counts.ended++;
      if (decision.start !== undefined) this.counts.started++;
      this.log.info(
        { host, device, tenant: decision.start ?? null, ended: decision.end ?? null, atMs },
        "Lease follows label",
      );
    } catch (error) {
      this.counts.refused++;
      // Refused (a later lease in the way, say): try again a minute on, not on every frame.
      this.seen.set(device, { value, atMs, recheckMs: atMs + RETRY_MS });
      this.warnOnce(device, { host, device, value, err: errorMessage(error) }, "Label lease change refused");
    }
  }

  private warnOnce(device: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(device)) return;
    this.warned.add(device);
    this.log.warn(fields, message);
  }
}
