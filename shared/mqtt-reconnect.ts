// How an MQTT client of ours reconnects, one policy for the agent and the collector's
// external-broker client: 1 s, 2 s, 4 s … capped at 30 s, back to 1 s after a connect, so a broker
// that stays down is not asked every second by every client. Each wait is stretched by up to half
// again at random (jitteredMs; so 30-45 s at the cap), so a thousand agents cut off by one broker
// restart do not all reconnect in the same instant.
//
// mqtt.js schedules each reconnect from client.options.reconnectPeriod when the connection closes
// (its own "close" listener, registered before ours), and clears that timer when it connects:
// setting the period on "close" thus spaces the next attempt, not the one being scheduled.
import type { MqttClient } from "mqtt";
import { backoffMs, jitteredMs } from "./backoff.js";

export const MIN_RECONNECT_MS = 1000;
export const MAX_RECONNECT_MS = 30_000;

/**
 * Makes `client` back off between reconnects: minMs, 2·minMs … MAX_RECONNECT_MS, reset on connect,
 * each jittered (reconnectWaitMs).
 */
export function backOffReconnects(
  client: MqttClient,
  minMs = MIN_RECONNECT_MS,
  random: () => number = Math.random,
): void {
  // Connection closes since the last connect: the backoff's attempt.
  let closes = 0;
  client.options.reconnectPeriod = reconnectWaitMs(0, minMs, random);
  client.on("connect", () => {
    closes = 0;
    // The wait before the first attempt after a loss: the one every client of a restarted broker
    // takes at once, so it is jittered too.
    client.options.reconnectPeriod = reconnectWaitMs(0, minMs, random);
  });
  client.on("close", () => {
    closes += 1;
    client.options.reconnectPeriod = reconnectWaitMs(closes, minMs, random);
  });
}

/** The wait before reconnect attempt `attempt` (0 after a connect): the backoff, jittered. */
export function reconnectWaitMs(
  attempt: number,
  minMs = MIN_RECONNECT_MS,
  random: () => number = Math.random,
): number {
  return jitteredMs(backoffMs(attempt, minMs, MAX_RECONNECT_MS), random);
}
