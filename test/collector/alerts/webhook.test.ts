import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RETRY, resolveAlertsConfig } from "../../../collector/alerts/config.js";
import { DeliveryQueue } from "../../../collector/alerts/delivery-queue.js";
import { WebhookNotifier, type WebhookPayload } from "../../../collector/alerts/webhook.js";
import { silentLogger } from "../../../shared/logger.js";
import { flag, until } from "./helpers.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A receiver that answers 503 to the first `failures` requests, then 204, recording bodies. */
async function receiver(failures: number) {
  const received: WebhookPayload[] = [];
  let requests = 0;
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests += 1;
      if (requests <= failures) {
        res.writeHead(503).end("busy");
        return;
      }
      received.push(JSON.parse(body) as WebhookPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, requests: () => requests };
}

describe("webhook", () => {
  it("retries with backoff until the receiver accepts, in order, opening before closing", async () => {
    const rx = await receiver(3);
    const config = resolveAlertsConfig({
      webhook: {
        ...DEFAULT_RETRY,
        url: rx.url,
        headers: { authorization: "Bearer t" },
        sendUpdates: false,
        retryInitial: "20ms",
        retryMax: "100ms",
      },
      alertmanager: null,
    }).webhook!;
    const notifier = new WebhookNotifier(config, silentLogger());
    notifier.start();
    const open = flag();
    notifier.handle({ type: "opened", flag: open });
    notifier.handle({ type: "updated", flag: open });
    notifier.handle({ type: "closed", flag: { ...open, endMs: Date.now() } });
    // The receiver records a body before its 204 reaches the notifier: wait for both sides.
    await until(
      () => (rx.received.length === 2 && notifier.stats().sent === 2 ? true : undefined),
      10_000,
      "two deliveries",
    );
    notifier.stop();
    expect(rx.requests()).toBe(5);
    expect(rx.received.map((p) => p.type)).toEqual(["opened", "closed"]);
    expect(rx.received[0]!.flag.reason).toBe(open.reason);
    expect(notifier.stats()).toMatchObject({ sent: 2, failedAttempts: 3, dropped: 0, queued: 0 });
  });

  it("push never blocks; past the bound the oldest is dropped and counted", async () => {
    const sent: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const queue = new DeliveryQueue<number>({
      send: async (n) => {
        await gate;
        sent.push(n);
      },
      maxQueue: 3,
      retryInitialMs: 10,
      retryMaxMs: 10,
    });
    queue.start();
    for (let i = 1; i <= 10; i += 1) queue.push(i);
    expect(queue.stats()).toMatchObject({ queued: 3, dropped: 7 });
    release();
    await queue.idle();
    expect(sent).toEqual([1, 9, 10]);
  });

  it("rejects a bad configuration with every problem listed", () => {
    expect(() =>
      resolveAlertsConfig({
        webhook: { ...DEFAULT_RETRY, url: "ftp://x", headers: {}, sendUpdates: false, retryMax: "soon" },
        alertmanager: null,
      }),
    ).toThrow(
      /alerts\.webhook\.url.*alerts\.webhook\.retryMax|alerts\.webhook\.retryMax.*alerts\.webhook\.url/,
    );
  });
});
