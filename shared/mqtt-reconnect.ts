// How an MQTT client of ours reconnects, one policy for the agent and the collector's
// external-broker client: 1 s, 2 s, 4 s … capped at 30 s, back to 1 s after a connect, so a broker
// that stays down is not asked every second by every client. No jitter.
//
// mqtt.js schedules each reconnect from client.options.reconnectPeriod when the connection closes
// (its own "close" listener, registered before ours), and clears that timer when it connects:
// setting the period on "close" thus spaces the next attempt, not the one being scheduled.
import type { MqttClient } from "mqtt";
import { backoffMs } from "./backoff.js";

export const MIN_RECONNECT_MS = 1000;
export const MAX_RECONNECT_MS = 30_000;

/** Makes `client` back off between reconnects: minMs, 2·minMs … MAX_RECONNECT_MS, reset on connect. */
export function backOffReconnects(client: MqttClient, minMs = MIN_RECONNECT_MS): void {
  // Connection closes since the last connect: the backoff's attempt.
  let closes = 0;
  client.options.reconnectPeriod = minMs;
  client.on("connect", () => {
    closes = 0;
    client.options.reconnectPeriod = minMs;
  });
  client.on("close", () => {
    closes += 1;
    client.options.reconnectPeriod = backoffMs(closes, minMs, MAX_RECONNECT_MS);
  });
}
