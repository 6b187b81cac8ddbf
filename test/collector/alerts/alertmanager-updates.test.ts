// Alertmanager and flag updates: an update that leaves the alert as it was (an Xid flag counting
// one more Xid of its kind keeps its reason) is not posted again; Alertmanager already has it and
// the resend keeps it alive. Otherwise an Xid storm posts one request per Xid and fills the
// bounded queue, whose overflow drops other flags' openings and closings.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AlertmanagerNotifier, type PostableAlert } from "../../../collector/alerts/alertmanager.js";
import { DEFAULT_RETRY, resolveAlertsConfig } from "../../../collector/alerts/config.js";
import { silentLogger } from "../../../shared/logger.js";
import { flag } from "./helpers.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** An Alertmanager stand-in that accepts every POST and records its alerts. */
async function alertmanager() {
  const posts: PostableAlert[][] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      posts.push(JSON.parse(body) as PostableAlert[]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, posts };
}

describe("Alertmanager and flag updates", () => {
  it("posts an update only when it changes the alert", async () => {
    const am = await alertmanager();
    const config = resolveAlertsConfig({
      webhook: null,
      alertmanager: { ...DEFAULT_RETRY, url: am.url, resendInterval: "1h", generatorUrl: "" },
    }).alertmanager!;
    const notifier = new AlertmanagerNotifier(config, silentLogger());
    notifier.start([]);
    const xid = flag({ id: 3, kind: "xid", reason: "Xid 48 (double-bit ECC error) on GPU 0" });
    notifier.handle({ type: "opened", flag: xid });
    for (let count = 2; count <= 50; count++)
      notifier.handle({
        type: "updated",
        flag: { ...xid, values: { count }, updatedMs: xid.updatedMs + count },
      });
    const changed = { ...xid, reason: "Xid 48 (double-bit ECC error) on GPU 0, 50 times" };
    notifier.handle({ type: "updated", flag: changed });
    notifier.handle({ type: "closed", flag: { ...changed, endMs: Date.now() } });
    await notifier.idle();
    notifier.stop();
    expect(am.posts.map((p) => p[0]?.annotations.description)).toEqual([
      xid.reason,
      changed.reason,
      changed.reason,
    ]);
    expect(am.posts[2]?.[0]?.endsAt).toBeDefined();
    expect(notifier.stats()).toMatchObject({ sent: 3, dropped: 0, active: 0 });
  });
});
