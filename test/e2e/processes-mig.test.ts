// End to end, issue 17's MIG attribution: a mock-smi A100 in MIG mode running two real children of
// this test, one on its 1g.10gb device and one whose instance the tool does not say -> `gputel
// agent` (processes source: -L and -q -x on the MIG GPU) -> the collector's embedded broker -> the
// first process's session carries the MIG device's UUID, the other none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migUuidFor } from "../../mock-smi/mig-layout.js";
import { uuidFor } from "../../mock-smi/scenario-state.js";
import { waitFor } from "../helpers/net.js";
import { type ProcessesRig, startProcessesRig } from "./processes-rig.js";

const HOST = "procs-mig-e2e";

interface Session {
  pid: number;
  gpuUuid: string;
  migUuid: string | null;
  memoryMib: number | null;
  open: boolean;
}

describe("MIG processes: mock-smi -> agent -> broker -> collector", () => {
  let rig: ProcessesRig;

  beforeAll(async () => {
    rig = await startProcessesRig({
      host: HOST,
      children: 2,
      passwd: `alice:x:${process.getuid?.() ?? 0}:0::/home/alice:/bin/sh\n`,
      scenario: ([a, b]) => [
        "start: 2026-07-14T08:00:00Z",
        `name: ${HOST}`,
        "gpus:",
        "  - model: NVIDIA A100-SXM4-80GB",
        "    mig: [3g.40gb, 1g.10gb]",
        "    processes:",
        `      - { pid: ${a}, name: python3, used_memory: 9000, mig_device: 1 }`,
        `      - { pid: ${b}, name: python3, used_memory: 300 }`,
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it("stores the session of the process on the 1g.10gb device with that device's UUID", async () => {
    const [a = 0, b = 0] = rig.pids;
    const gpu = uuidFor(HOST, 0);
    const device = migUuidFor(gpu, 1);
    let sessions: Session[] = [];
    await waitFor(
      async () => {
        // 404 until the GPU's first frame is stored.
        const answer = await rig.get<{ processes?: Session[] }>(`/api/v1/gpus/${gpu}/processes`);
        sessions = answer.processes ?? [];
        // The first set may leave before the agent has seen the GPU's MIG mode in a sample: that
        // session closes with the next set, and the current ones carry the device.
        return sessions.some((s) => s.pid === a && s.migUuid === device);
      },
      40_000,
      "the MIG process's session with its device",
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}; sessions ${JSON.stringify(sessions)}; agent: ${rig.agent.output().slice(-3000)}`,
      );
    });
    const byPid = new Map(sessions.map((s) => [s.pid, s]));
    expect(byPid.get(a)).toMatchObject({ gpuUuid: gpu, migUuid: device, memoryMib: 9000, open: true });
    // -q -x printed N/A instance ids for the other: no device named, none guessed.
    expect(byPid.get(b)).toMatchObject({ gpuUuid: gpu, migUuid: null, memoryMib: 300, open: true });
    expect(sessions).toHaveLength(2);
  }, 60_000);
});
