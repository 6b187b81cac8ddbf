// Collector durations it cannot honour stop start-up under their key: Node's timers wait at most
// 2^31-1 ms (a 30d alerts.alertmanager.resend would resend every alert each millisecond, a 30d
// webhook timeout would abort every delivery at once), and MQTT 5 carries the session expiry in
// 32 bits of seconds (a longer one makes every CONNECT to the external broker fail).
import { describe, expect, it } from "vitest";
import { loadCollectorConfig } from "../../collector/config.js";

const paths = (overrides: Record<string, unknown>) => {
  const loaded = loadCollectorConfig({ env: {}, overrides });
  return loaded.ok ? [] : loaded.problems.map((p) => p.path);
};

describe("collector durations", () => {
  it.each([
    ["alerts.alertmanager.resend", "30d"],
    ["alerts.webhook.timeout", "4w"],
    ["remote_write.interval", "1y"],
    ["remote_write.timeout", "30d"],
    ["broker.session_expiry", "200y"],
  ])("refuses a %s of %s, naming the key", (path, value) => {
    const overrides: Record<string, unknown> = { [path]: value };
    if (path.startsWith("remote_write.")) overrides["remote_write.url"] = "http://127.0.0.1:9/write";
    expect(paths(overrides)).toEqual([path]);
  });

  it("takes the longest each one can keep", () => {
    expect(
      paths({
        "alerts.alertmanager.resend": "24d",
        "remote_write.url": "http://127.0.0.1:9/write",
        "remote_write.interval": "24d",
        "broker.session_expiry": "100y",
      }),
    ).toEqual([]);
  });
});
