// Against a real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY, resolveAlertsConfig } from "../../../collector/alerts/config.js";
import { AlertDispatcher } from "../../../collector/alerts/dispatcher.js";
import type { Flag, FlagListener } from "../../../collector/flags/types.js";
import { silentLogger } from "../../../shared/logger.js";
import { flag, freePort, until } from "./helpers.js";

const BINARY = process.env.GPUTEL_ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager";
const present = existsSync(BINARY);
const required = process.env.GPUTEL_REQUIRE_ALERTMANAGER === "1";
if (!present && !required)
  console.log(
    `Skipping Alertmanager tests: ${BINARY} not found (set GPUTEL_REQUIRE_ALERTMANAGER=1 to fail instead)`,
  );

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

describe.runIf(present || required)("Alertmanager v2", () => {
  let child: ChildProcess;
  let dir: string;
  let url: string;
  let output = "";

  beforeAll(async () => {
    expect(present, `${BINARY} is required (GPUTEL_REQUIRE_ALERTMANAGER=1)`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), "gputel-am-"));
    writeFileSync(join(dir, "am.yml"), 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(BINARY, [
      `--config.file=${join(dir, "am.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      "--cluster.listen-address=",
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`alertmanager exited: ${output}`);
        const ok = await fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
        return ok ? true : undefined;
      },
      20_000,
      "alertmanager ready",
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function alerts(): Promise<AmAlert[]> {
    const response = await fetch(`${url}/api/v2/alerts`);
    return (await response.json()) as AmAlert[];
  }

  it("posts an opened flag as an active alert, re-sends it, and resolves it on close", async () => {
    const listeners = new Set<FlagListener>();
    const existing = flag({ id: 7, kind: "idle-held", severity: "warning", gpuIndex: 3, gpuUuid: "GPU-3" });
    const source = {
      subscribe: (l: FlagListener) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      openFlags: (): Flag[] => [existing],
    };
    const config = resolveAlertsConfig({
      webhook: null,
      alertmanager: {
        ...DEFAULT_RETRY,
        url,
        resendInterval: "200ms",
        generatorUrl: "http://127.0.0.1:8080/",
        retryInitial: "50ms",
      },
    });
    const dispatcher = new AlertDispatcher(source, config, silentLogger());
    dispatcher.start();
    const open = flag({ id: 8 });
    for (const l of listeners) l({ type: "opened", flag: open });

    const active = await until(
      async () => {
        const list = await alerts();
        return list.length === 2 ? list : undefined;
      },
      15_000,
      "two active alerts",
    );
    const heat = active.find((a) => a.labels.alertname === "gputel_overheat")!;
    expect(heat.labels).toMatchObject({
      alertname: "gputel_overheat",
      host: "node-1",
      gpu: "0",
      uuid: open.gpuUuid!,
      site: "par1",
      severity: "warning",
      customer: "acme",
      rack_id: "r12",
    });
    expect(heat.annotations.description).toBe(open.reason);
    expect(heat.annotations.summary).toBe("overheat on GPU 0 on node-1");
    expect(heat.status.state).toBe("active");
    expect(Date.parse(heat.startsAt)).toBe(open.startMs);
    expect(active.find((a) => a.labels.alertname === "gputel_idle_held")?.labels.gpu).toBe("3");

    // Re-sent while active: more requests than the two events.
    await until(
      () => ((dispatcher.stats().alertmanager?.sent ?? 0) >= 4 ? true : undefined),
      10_000,
      "resends",
    );

    for (const l of listeners) l({ type: "closed", flag: { ...open, endMs: Date.now() - 1000 } });
    await until(
      async () => {
        const list = await alerts();
        const still = list.find(
          (a) => a.labels.alertname === "gputel_overheat" && a.status.state === "active",
        );
        return still ? undefined : list;
      },
      15_000,
      "overheat resolved",
    );
    const after = await alerts();
    expect(
      after.filter((a) => a.labels.alertname === "gputel_idle_held" && a.status.state === "active"),
    ).toHaveLength(1);
    expect(dispatcher.stats().alertmanager?.active).toBe(1);
    dispatcher.stop();
  });
});
