// Where the agent's frames and inventory go. Declared here, beside the MQTT publisher that
// implements it, so the publishing folder does not depend on the agent's main loop.
import type { IFrame, IHealthEvent, IInventory, IProcessSet } from "../../shared/proto.js";

/** Where frames and inventory go: an MQTT publisher with a spool, or stdout for `--once`. */
export interface FramePublisher {
  /** Accepts a frame; must not block the sampling loop. */
  publishFrame(frame: IFrame): void;
  publishInventory(inventory: IInventory): void;
  /** Stores kernel-log events durably and publishes them; false when they could not be stored. */
  publishEvents?(events: readonly IHealthEvent[]): boolean;
  /** Stores a process set durably and publishes it; false when it could not be stored. */
  publishProcesses?(set: IProcessSet): boolean;
  /** Frames dropped by the spool's bound over the spool's life (reported in every frame). */
  droppedTotal(): number;
}
