// Ingest of process sets (gputel/v1/<host>/processes): untrusted input checked and bounded, bad
// processes dropped alone with a reason, and sessions opened, extended and closed in the real store.
import { afterEach, describe, expect, it, vi } from "vitest";
import { REASON, refusalCode, retainDecision } from "../../../collector/broker/policy.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import { DEFAULT_LIMITS } from "../../../collector/ingest/limits.js";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import { silentLogger } from "../../../shared/logger.js";
import {
  AbsentReason,
  type IProcessAbsence,
  type IProcessRecord,
  type IProcessSet,
  ProcessSet,
  SCHEMA_VERSION,
} from "../../../shared/proto.js";
import { topicFor } from "../../../shared/topics.js";
import { storePipeline, type TempStore, tempStore } from "../store/synth.js";

const NOW = Date.UTC(2026, 10, 23, 12, 5, 0);
const H = "gpu-node-01";
const ctx = { username: undefined, nowMs: NOW };
const POD = "1a2b3c4d-0000-4000-8000-00000000abcd";

function proc(pid: number, over: Partial<IProcessRecord> = {}): IProcessRecord {
  return {
    gpu_uuid: "GPU-test-0",
    pid,
    start_ms: NOW - 3600_000,
    name: "python3",
    used_memory_mib: 41_000,
    peak_memory_mib: 42_000,
    sm_pct: 0,
    uid: 1000,
    user: "alice",
    workload_kind: "kubernetes",
    pod_uid: POD,
    container_id: "ab".repeat(32),
    ...over,
  };
}

function setPayload(host: string, processes: IProcessRecord[], over: Partial<IProcessSet> = {}) {
  return ProcessSet.encode({
    schema_version: SCHEMA_VERSION,
    host,
    boot_id: "agent-boot-1",
    seq: 1,
    timestamp_ms: NOW,
    processes,
    ...over,
  }).finish();
}

const topic = topicFor(H, "processes");
let tmp: TempStore | undefined;
afterEach(() => tmp?.cleanup());

describe("ProcessSet check", () => {
  it("keeps the holders' identity, user and workload", () => {
    const checked = checkMessage(topic, setPayload(H, [proc(4121)]), ctx);
    expect(checked.rejections).toEqual([]);
    expect(checked.processes?.processes).toEqual([
      expect.objectContaining({
        pid: 4121,
        name: "python3",
        user: "alice",
        podUid: POD,
        usedMemoryMib: 41_000,
      }),
    ]);
  });

  it.each([
    ["gpu uuid", { gpu_uuid: "GPU/../x" }],
    ["pid", { pid: 99_999_999 }],
    ["name", { name: "n".repeat(300) }],
    ["memory", { used_memory_mib: 99_999_999 }],
    ["sm", { sm_pct: 250 }],
    ["memory %", { mem_pct: 101 }],
    ["negative memory %", { mem_pct: -1 }],
    ["memory % not a number", { mem_pct: Number.NaN }],
    ["user", { user: "a b" }],
    ["workload", { workload_kind: "vm" }],
    ["pod uid", { pod_uid: "'; DROP TABLE" }],
    ["job id", { slurm_job_id: "12a" }],
    ["start", { start_ms: NOW + 3600_000 }],
  ])("drops a process with a bad %s alone (process_invalid)", (_name, over) => {
    const checked = checkMessage(topic, setPayload(H, [proc(1, over), proc(2)]), ctx);
    expect(checked.rejections.map((r) => r.reason)).toEqual(["process_invalid"]);
    expect(checked.processes?.processes.map((p) => p.pid)).toEqual([2]);
  });

  it("keeps why a field is absent, and drops a malformed absence alone (process_absence_invalid)", () => {
    const UNSUPPORTED = AbsentReason.ABSENT_REASON_UNSUPPORTED;
    const absent: IProcessAbsence[] = [
      { field: "sm", reason: UNSUPPORTED, why: "pmon does not report on this GPU" },
      { field: "mem", reason: UNSUPPORTED, why: "pmon does not report on this GPU" },
      { field: "proc", reason: AbsentReason.ABSENT_REASON_ERROR, why: "status: EACCES" },
      { field: "cmdline", reason: UNSUPPORTED, why: "a field the agent never sends" },
      { field: "sm", reason: 99 as IProcessAbsence["reason"], why: "a reason outside the enum" },
      { field: "sm", reason: AbsentReason.ABSENT_REASON_UNSPECIFIED, why: "no reason" },
      { field: "proc", reason: UNSUPPORTED, why: "w".repeat(201) },
      { field: "proc", reason: UNSUPPORTED, why: "line\nbreak" },
    ];
    const checked = checkMessage(topic, setPayload(H, [proc(1, { sm_pct: null, absent })]), ctx);
    expect(checked.rejections.map((r) => r.reason)).toEqual(Array(5).fill("process_absence_invalid"));
    expect(checked.processes?.processes[0]).toMatchObject({
      pid: 1,
      smPct: null,
      absent: [
        { field: "sm", reason: "unsupported", why: "pmon does not report on this GPU" },
        { field: "mem", reason: "unsupported", why: "pmon does not report on this GPU" },
        { field: "proc", reason: "error", why: "status: EACCES" },
      ],
    });
  });

  it("keeps at most 16 absences of one process, counting the rest once", () => {
    const absent = Array.from({ length: 40 }, (_, i) => ({
      field: "proc",
      reason: AbsentReason.ABSENT_REASON_ERROR,
      why: `problem ${i}`,
    }));
    const checked = checkMessage(topic, setPayload(H, [proc(1, { absent })]), ctx);
    expect(checked.rejections.map((r) => r.reason)).toEqual(["process_absence_invalid"]);
    expect(checked.processes?.processes[0]?.absent).toHaveLength(16);
  });

  it("rejects a set for another host, from another user, or past the bound", () => {
    expect(
      checkMessage(topicFor("other", "processes"), setPayload(H, [proc(1)]), ctx).rejections[0]?.reason,
    ).toBe("host_mismatch");
    expect(
      checkMessage(topic, setPayload(H, [proc(1)]), { ...ctx, username: "other" }).rejections[0]?.reason,
    ).toBe("username_mismatch");
    const many = Array.from({ length: 5 }, (_, i) => proc(i + 1));
    const limited = checkMessage(topic, setPayload(H, many), {
      ...ctx,
      limits: { ...DEFAULT_LIMITS, maxProcessesPerMessage: 4 },
    });
    expect(limited.rejections.map((r) => r.reason)).toEqual(["too_many_processes"]);
    expect(limited.processes).toBeUndefined();
  });
});

describe("broker policy for the processes topic", () => {
  it("is never retained; a set past the bound is a quota (kept by the agent), a bad one is not", () => {
    const limits = { maxBytes: 1 << 20, maxMessages: 10 };
    expect(retainDecision(topic, 100, new Set(), limits)).toBe("refuse");
    expect(refusalCode("too_many_processes")).toBe(REASON.QUOTA_EXCEEDED);
    expect(refusalCode("username_mismatch")).toBe(REASON.NOT_AUTHORIZED);
    expect(refusalCode("process_invalid")).toBe(REASON.PAYLOAD_FORMAT_INVALID);
  });
});

describe("process sessions in the store", () => {
  it("counts process sets against the host's limits.max_frames_per_second, as frames and events are", async () => {
    tmp = tempStore();
    const store = tmp.open();
    const limits = { ...DEFAULT_LIMITS, maxFramesPerSecond: 2, maxFramesPerBatch: 2 };
    const pipeline = new IngestPipeline({
      sink: store,
      logger: silentLogger(),
      fleet: store.fleet,
      now: () => NOW,
      limits,
    });
    pipeline.start();
    const send = (seq: number) => pipeline.submit(topic, setPayload(H, [proc(4121)], { seq }), undefined);
    expect((await send(1)).stored).toBe(true);
    expect((await send(2)).stored).toBe(true);
    const third = await send(3);
    expect(third.stored).toBe(false);
    expect(third.rejections.map((r) => r.reason)).toEqual(["rate_limited"]);
    await pipeline.stop();
  });

  it("opens, extends and closes sessions; a replayed older set closes nothing; a re-sent one changes nothing", async () => {
    tmp = tempStore();
    const store = tmp.open();
    const pipeline = storePipeline(store, () => NOW);
    const send = (seq: number, at: number, list: IProcessRecord[]) =>
      pipeline.submit(topic, setPayload(H, list, { seq, timestamp_ms: at }), undefined);
    expect((await send(1, NOW - 120_000, [proc(4121, { sm_pct: 10, mem_pct: 4 }), proc(5000)])).stored).toBe(
      true,
    );
    const newest = proc(4121, { sm_pct: 30, mem_pct: 8, used_memory_mib: 43_000, peak_memory_mib: 43_000 });
    await send(3, NOW, [newest]);
    await send(3, NOW, [newest]);
    // Replayed after an outage: older than the newest, so it closes nothing and reopens nothing.
    await send(2, NOW - 60_000, [proc(4121, { sm_pct: 20, mem_pct: 50 }), proc(5000)]);
    await pipeline.stop();
    const rows = store.processes().query({ limit: 10 });
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    expect(byPid.get(4121)).toMatchObject({
      open: true,
      firstSeenMs: NOW - 120_000,
      lastSeenMs: NOW,
      memoryMib: 43_000,
      peakMemoryMib: 43_000,
      smPct: 20,
      memPct: 6,
      user: "alice",
      podUid: POD,
    });
    expect(byPid.get(5000)).toMatchObject({ open: false, lastSeenMs: NOW - 60_000, memPct: null });
    expect(
      store
        .processes()
        .query({ limit: 10, currentSinceMs: NOW - 600_000 })
        .map((r) => r.pid),
    ).toEqual([4121]);
    expect(store.processes().query({ limit: 10, gpuUuids: [] })).toEqual([]);
  });

  it("keeps the newest set's absences: a replayed older set does not bring back its own", async () => {
    tmp = tempStore();
    const store = tmp.open();
    const pipeline = storePipeline(store, () => NOW);
    const noPmon = (why: string): IProcessAbsence[] => [
      { field: "sm", reason: AbsentReason.ABSENT_REASON_UNSUPPORTED, why },
      { field: "mem", reason: AbsentReason.ABSENT_REASON_UNSUPPORTED, why },
    ];
    const send = (seq: number, at: number, over: Partial<IProcessRecord>) =>
      pipeline.submit(topic, setPayload(H, [proc(4121, over)], { seq, timestamp_ms: at }), undefined);
    await send(1, NOW - 120_000, { sm_pct: null, absent: noPmon("pmon has not answered") });
    await send(3, NOW, { sm_pct: null, absent: noPmon("pmon does not report on this GPU") });
    await send(2, NOW - 60_000, { sm_pct: null, absent: noPmon("not in the last pmon interval") });
    await pipeline.stop();
    const [row] = store.processes().query({ limit: 10 });
    expect(row).toMatchObject({
      smPct: null,
      absent: [
        { field: "sm", reason: "unsupported", why: "pmon does not report on this GPU" },
        { field: "mem", reason: "unsupported", why: "pmon does not report on this GPU" },
      ],
    });
  });

  it("prepares a query's SQL once per shape: the same filters with other values reuse it", () => {
    tmp = tempStore();
    const store = tmp.open();
    const write = (host: string, pid: number) => {
      const checked = checkMessage(topicFor(host, "processes"), setPayload(host, [proc(pid)]), ctx);
      store.writeProcesses(checked.processes!, NOW);
    };
    write(H, 4121);
    write("gpu-node-02", 5000);
    const sessions = store.processes();
    const prepare = vi.spyOn(store.db, "prepare");
    const byHost = (host: string) => sessions.query({ host, limit: 10 }).map((r) => r.pid);
    expect(byHost(H)).toEqual([4121]);
    expect(byHost("gpu-node-02")).toEqual([5000]);
    expect(byHost("gpu-node-03")).toEqual([]);
    expect(sessions.current({ host: H, nowMs: NOW, limit: 10 }).map((r) => r.pid)).toEqual([4121]);
    expect(sessions.current({ host: "gpu-node-02", nowMs: NOW, limit: 10 }).map((r) => r.pid)).toEqual([
      5000,
    ]);
    // Two shapes (host; host and current), each prepared once.
    expect(prepare).toHaveBeenCalledTimes(2);
    prepare.mockRestore();
  });

  it("a reused pid with another start is another session", () => {
    tmp = tempStore();
    const store = tmp.open();
    const write = (at: number, start: number) => {
      const checked = checkMessage(
        topic,
        setPayload(H, [proc(77, { start_ms: start })], { timestamp_ms: at }),
        ctx,
      );
      store.writeProcesses(checked.processes!, at);
    };
    write(NOW - 60_000, NOW - 3600_000);
    write(NOW, NOW - 30_000);
    const rows = store.processes().query({ limit: 10 });
    expect(rows.map((r) => [r.startMs, r.open])).toEqual([
      [NOW - 30_000, true],
      [NOW - 3600_000, false],
    ]);
  });
});
