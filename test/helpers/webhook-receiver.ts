// A webhook endpoint on a free loopback port that keeps every JSON body posted to it, answering
// 204: the alert receiver the end-to-end tests point `alerts.webhook.url` at.
import { createServer } from "node:http";

export interface WebhookReceiver<T> {
  port: number;
  /** The bodies received so far, in order. */
  bodies: T[];
  close(): Promise<void>;
}

export async function startWebhookReceiver<T>(): Promise<WebhookReceiver<T>> {
  const bodies: T[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += String(d);
    });
    req.on("end", () => {
      bodies.push(JSON.parse(body) as T);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
