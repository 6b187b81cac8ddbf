// The agents' sources' health from their statuses: validated at ingest, stored per host and
// source (newest status wins, a status without sources leaves the rows), rendered on /metrics.
import { afterEach, describe, expect, it } from "vitest";
import { renderMetrics } from "../../../collector/exposition/prometheus.js";
import { validateStatus } from "../../../collector/ingest/validate.js";
import { AgentState, type ISourceStatus, type IStatus, Status } from "../../../shared/proto.js";
import { T0, type TempStore, tempStore } from "./synth.js";

let temp: TempStore | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

const smi = (over: Partial<ISourceStatus> = {}): ISourceStatus => ({
  name: "nvidia-smi",
  restarts: 3,
  timeouts: 1,
  exits: 2,
  stuck_children: 0,
  start_failures: 1,
  last_error: "nvidia-smi exited with code 1",
  last_error_ms: T0 - 5000,
  stuck: false,
  ...over,
});

const status = (atMs: number, sources: ISourceStatus[], state = AgentState.AGENT_STATE_ONLINE): IStatus => ({
  schema_version: 1,
  host: "h1",
  state,
  timestamp_ms: atMs,
  boot_id: "b1",
  reason: "started",
  agent_version: "0.1.0",
  interval_ms: 1000,
  sources,
});

describe("agent sources in the store", () => {
  it("a status with sources replaces the host's rows; an older one or one without sources does not", () => {
    temp = tempStore();
    const store = temp.open();
    store.writeStatus(status(T0, [smi()]), T0);
    expect(store.agentSources()).toEqual([
      {
        host: "h1",
        source: "nvidia-smi",
        restarts: 3,
        timeouts: 1,
        exits: 2,
        stuckChildren: 0,
        startFailures: 1,
        lastError: "nvidia-smi exited with code 1",
        lastErrorMs: T0 - 5000,
        stuck: false,
        reportedMs: T0,
      },
    ]);
    store.writeStatus(status(T0 + 10_000, [smi({ restarts: 4, stuck: true })]), T0 + 10_000);
    store.writeStatus(status(T0 + 5000, [smi({ restarts: 1 })]), T0 + 11_000); // late, older
    store.writeStatus(status(T0 + 20_000, [], AgentState.AGENT_STATE_OFFLINE), T0 + 20_000); // the last will
    expect(store.agentSources()).toMatchObject([{ restarts: 4, stuck: true, reportedMs: T0 + 10_000 }]);
  });

  it("ingest refuses bad source names and oversized errors, and decodes the counters as numbers", () => {
    const ctx = { topicHost: "h1", username: undefined, nowMs: T0 };
    const decoded = Status.decode(Status.encode(status(T0, [smi()])).finish()) as IStatus;
    const ok = validateStatus(decoded, ctx);
    expect(ok.ok && ok.value.sources?.[0]?.restarts).toBe(3);
    for (const bad of [
      [smi({ name: "Nvidia SMI" })],
      [smi(), smi()],
      [smi({ last_error: "x".repeat(1025) })],
      Array.from({ length: 17 }, (_, i) => smi({ name: `s${i}` })),
    ]) {
      const checked = validateStatus(status(T0, bad), ctx);
      expect(checked.ok).toBe(false);
      expect(!checked.ok && checked.rejection.reason).toBe("field_invalid");
    }
  });

  it("/metrics shows the counters by host and source", () => {
    temp = tempStore();
    const store = temp.open();
    store.writeStatus(status(T0, [smi()]), T0);
    const text = renderMetrics(
      {
        gpus: [],
        hosts: [],
        openFlags: [],
        ingest: null,
        databaseBytes: 0,
        newestSampleMs: null,
        agentSources: store.agentSources(),
      },
      T0,
    );
    const labels = '{host="h1",source="nvidia-smi"}';
    expect(text).toContain(
      `# TYPE gputel_agent_source_restarts_total counter\ngputel_agent_source_restarts_total${labels} 3`,
    );
    expect(text).toContain(`gputel_agent_source_timeouts_total${labels} 1`);
    expect(text).toContain(`gputel_agent_source_exits_total${labels} 2`);
    expect(text).toContain(`gputel_agent_source_stuck_children_total${labels} 0`);
    expect(text).toContain(`gputel_agent_source_start_failures_total${labels} 1`);
    expect(text).toContain(`gputel_agent_source_stuck${labels} 0`);
    expect(text).toContain(`gputel_agent_source_last_error_timestamp_seconds${labels} ${(T0 - 5000) / 1000}`);
  });
});
