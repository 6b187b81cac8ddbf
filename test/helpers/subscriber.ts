// A test MQTT subscriber that decodes gputel frames, statuses, inventories and kernel-log event
// batches as they arrive.
import mqtt, { type MqttClient } from "mqtt";
import {
  EventBatch,
  FrameBatch,
  type IEventBatch,
  type IFrame,
  type IHealthEvent,
  type IInventory,
  Inventory,
  type IStatus,
  Status,
} from "../../shared/proto.js";
import { parseTopic } from "../../shared/topics.js";

export interface Received {
  frames: IFrame[];
  statuses: IStatus[];
  inventories: IInventory[];
  batches: number;
  /** Every HealthEvent, in arrival order, and the EventBatch messages that carried them. */
  events: IHealthEvent[];
  eventBatches: IEventBatch[];
}

export async function subscribe(
  url: string,
  filter = "gputel/v1/#",
): Promise<{ received: Received; client: MqttClient }> {
  const received: Received = {
    frames: [],
    statuses: [],
    inventories: [],
    batches: 0,
    events: [],
    eventBatches: [],
  };
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: `test-sub-${process.pid}-${Date.now()}`,
  });
  client.on("message", (topic, payload) => {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    if (parsed.kind === "frame") {
      received.batches += 1;
      received.frames.push(...FrameBatch.decode(payload).frames);
    } else if (parsed.kind === "status") {
      received.statuses.push(Status.decode(payload));
    } else if (parsed.kind === "event") {
      const batch = EventBatch.decode(payload);
      received.eventBatches.push(batch);
      received.events.push(...batch.events);
    } else {
      received.inventories.push(Inventory.decode(payload));
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { received, client };
}
