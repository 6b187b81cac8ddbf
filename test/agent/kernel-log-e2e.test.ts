// End to end: `gputel agent` with both sources (mock-smi as its nvidia-smi, `gputel mock-kmsg
// --follow` as its kernel-log reader) publishes the Xid events on gputel/v1/<host>/event through
// a real broker; killed (SIGKILL) and started again on the same state directory, it publishes
// only what is new: counted at a decoding subscriber.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { uuidFor } from "../../mock-smi/scenario-state.js";
import { EventKind } from "../../shared/proto.js";
import { startAedes } from "../helpers/aedes.js";
import { GPUTEL, type Spawned, spawnGputel } from "../helpers/cli.js";
import { waitFor } from "../helpers/net.js";
import { subscribe } from "../helpers/subscriber.js";

const HOST = "klog-e2e";
const SCENARIO = (extra = "") => `
start: 2026-07-14T08:00:00Z
hosts:
  - name: ${HOST}
    gpus:
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 2m, code: 13, pid: 31337, name: python3 }${extra}
      - model: NVIDIA H100 80GB HBM3
        xid:
          - { at: 30s, code: 79 }
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function spooledEvents(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM frames").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function startAgent(config: string): Spawned {
  const agent = spawnGputel(["agent", "--config", config]);
  cleanups.push(async () => {
    agent.child.kill("SIGKILL");
    await agent.exited;
  });
  return agent;
}

describe("agent with the kernel-log source", () => {
  it("publishes each Xid once, mapped to its GPU, across a SIGKILL and restart", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const { received, client } = await subscribe(broker.url, `gputel/v1/${HOST}/#`);
    cleanups.push(async () => {
      await client.endAsync();
    });
    const dir = mkdtempSync(join(tmpdir(), "gputel-klog-e2e-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const scenario = join(dir, "scenario.yaml");
    writeFileSync(scenario, SCENARIO());
    const config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      [
        `host: ${HOST}`,
        "interval: 200ms",
        `state_directory: ${join(dir, "state")}`,
        "sources: [nvidia-smi, kernel-log]",
        `nvidia_smi: ${GPUTEL} mock-smi --scenario ${scenario} --`,
        `kernel_log: { command: ${GPUTEL} mock-kmsg --scenario ${scenario} --follow }`,
        `broker: { url: "${broker.url}" }`,
        "",
      ].join("\n"),
    );

    const first = startAgent(config);
    await waitFor(() => received.events.length >= 2, 30_000, `two events (agent: ${first.output()})`);
    const [lost, fault] = received.events;
    expect(lost).toMatchObject({
      kind: EventKind.EVENT_KIND_XID,
      code: 79,
      pci_bus_id: "0000:2a:00",
      gpu_uuid: uuidFor(HOST, 1),
      gpu_index: 1,
      source: "kmsg",
    });
    expect(fault).toMatchObject({
      code: 13,
      gpu_uuid: uuidFor(HOST, 0),
      pid: 31337,
      process_name: "python3",
    });
    expect(received.eventBatches[0]?.host).toBe(HOST);
    // Delivery is at least once: an event whose PUBACK the agent had not yet taken is sent again
    // after a restart (the collector stores it once). Kill it once its event spool is empty, so
    // that what is counted below is the kernel-log source's own resumption.
    await waitFor(() => spooledEvents(join(dir, "state", "events.db")) === 0, 20_000, "events acknowledged");
    first.child.kill("SIGKILL");
    await first.exited;

    // A later Xid joins the log; the restarted agent replays the whole boot's log and sends only it.
    writeFileSync(scenario, SCENARIO("\n          - { at: 3m, code: 31 }"));
    const second = startAgent(config);
    await waitFor(() => received.events.length >= 3, 30_000, `the new event (agent: ${second.output()})`);
    // Frames flow meanwhile; a duplicate would have come before the new event (the log is in order).
    await waitFor(() => received.frames.length >= 3, 20_000, "frames from the restarted agent");
    expect(received.events.map((e) => [e.code, Number(e.kernel_seq)])).toEqual([
      [79, 1001],
      [13, 1003],
      [31, 1004],
    ]);
  });
});
