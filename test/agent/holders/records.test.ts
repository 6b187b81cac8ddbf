// Holder records assembled from the captures' own outputs: L40S under load (pmon shares), the
// H100 MIG capture (instance attribution, utilization absent), and a /proc lookup per pid.
import { describe, expect, it } from "vitest";
import { migPlaces } from "../../../agent/holders/mig-places.js";
import { parsePmon } from "../../../agent/holders/pmon.js";
import type { HolderInfo } from "../../../agent/holders/proc-reader.js";
import { buildHolderRecords } from "../../../agent/holders/records.js";
import { parseComputeAppRows } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import { parseListGpus, parseQueryText } from "../../../agent/sources/nvidia-smi/mig-text.js";
import { AbsentReason } from "../../../shared/proto.js";
import { readCapture, section } from "../nvidia-smi/capture.js";

const UUID = "GPU-00000000-0000-0000-0000-000000000000";
const rowsOf = (file: string) => {
  const parsed = parseComputeAppRows(section(readCapture(file), "load", "query-compute-apps").output);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.rows;
};
const pmonOf = (file: string) => {
  const parsed = parsePmon(section(readCapture(file), "load", "pmon").output);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.samples[0];
};

const alice: HolderInfo = {
  pid: 20037,
  uid: 1001,
  user: "alice",
  startMs: 1_764_835_200_000,
  workload: { kind: "slurm", jobId: "88123", stepId: "0" },
  problems: [],
};

describe("holder records", () => {
  const L40S = "linux-x86_64__nvidia-l40s__595.80.txt";

  it("L40S under load: memory from the rows, SM/mem from pmon, user and job from /proc", () => {
    const records = buildHolderRecords({
      rows: rowsOf(L40S),
      gpuIndex: new Map([[UUID, 0]]),
      pmon: pmonOf(L40S),
      holders: new Map([[20037, alice]]),
      privacy: { users: "keep", salt: "" },
    });
    expect(records[0]).toEqual({
      gpuUuid: UUID,
      pid: 20037,
      name: "ffmpeg",
      usedMemoryMib: 538,
      smPct: 2,
      memPct: 0,
      startMs: 1_764_835_200_000,
      workload: { kind: "slurm", jobId: "88123", stepId: "0" },
      user: { uid: 1001, name: "alice" },
      absent: [],
    });
    // pid 20038 was not looked up: its user is absent with the reason, not invented.
    expect(records[1]).toMatchObject({ pid: 20038, smPct: 6, memPct: 0, user: {} });
    expect(records[1]?.absent).toEqual([
      { field: "proc", reason: AbsentReason.ABSENT_REASON_ERROR, why: "not looked up" },
    ]);
  });

  it("privacy hash replaces uid and name by the token", () => {
    const [record] = buildHolderRecords({
      rows: rowsOf(L40S).slice(0, 1),
      gpuIndex: new Map([[UUID, 0]]),
      pmon: pmonOf(L40S),
      holders: new Map([[20037, alice]]),
      privacy: { users: "hash", salt: "site-salt" },
    });
    expect(Object.keys(record?.user ?? {})).toEqual(["token"]);
    expect(JSON.stringify(record)).not.toContain("alice");
  });

  it("H100 under MIG: each process on its MIG device; SM/mem absent with the MIG reason", () => {
    const file = "linux-x86_64__nvidia-h100-mig__590.48.01.txt";
    const sections = readCapture(file);
    const rows = rowsOf(file);
    const mig = migPlaces(
      rows,
      new Set([UUID]),
      parseListGpus(section(sections, "capabilities", "list (-L)").output),
      parseQueryText(section(sections, "load", "query (-q)").output),
    );
    const records = buildHolderRecords({
      rows,
      gpuIndex: new Map([[UUID, 0]]),
      pmon: pmonOf(file),
      holders: new Map(),
      mig,
      privacy: { users: "drop", salt: "" },
    });
    expect(records.map((r) => [r.pid, r.migUuid, r.usedMemoryMib, r.smPct])).toEqual([
      [21180, "MIG-00000000-0000-0000-0000-000000000000", 2296, undefined],
      [21181, "MIG-00000000-0000-0000-0000-000000000000", 1272, undefined],
      [21198, "MIG-00000000-0000-0000-0000-000000000000", 7484, undefined],
    ]);
    expect(records[2]?.absent.filter((a) => a.field === "sm")).toEqual([
      {
        field: "sm",
        reason: AbsentReason.ABSENT_REASON_UNSUPPORTED,
        why: "nvidia-smi reports no per-process utilization under MIG",
      },
    ]);
  });

  it("without pmon the shares are absent with the reason given", () => {
    const [record] = buildHolderRecords({
      rows: rowsOf(L40S).slice(0, 1),
      gpuIndex: new Map([[UUID, 0]]),
      pmon: undefined,
      pmonMissing: "pmon unsupported by this driver",
      holders: new Map([[20037, alice]]),
      privacy: { users: "keep", salt: "" },
    });
    expect(record?.smPct).toBeUndefined();
    expect(record?.absent.map((a) => [a.field, a.why])).toEqual([
      ["sm", "pmon unsupported by this driver"],
      ["mem", "pmon unsupported by this driver"],
    ]);
  });
});
