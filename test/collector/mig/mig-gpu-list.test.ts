// Issue 17's MIG devices in the GPU list, on a real collector (embedded broker, SQLite, HTTP API):
// /api/v1/gpus gives a partitioned GPU its devices in the compact form (uuid, profile, memory,
// utilization null with MIG_NO_UTILIZATION), a tenant sees them on the GPUs it leases whole and
// nothing of a GPU it holds one MIG device of, the wall screen's compact poll is the same bytes with
// or without MIG devices, and `gputel query gpus` names a MIG GPU's devices on its line.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run as runQuery } from "../../../cli/query/cli.js";
import { newToken } from "../../../collector/api/tokens.js";
import type { GpuView } from "../../../collector/contract/api-contract.js";
import { checkMessage } from "../../../collector/ingest/check.js";
import { encodeInventory } from "../../../shared/codec.js";
import { MIG_NO_UTILIZATION } from "../../../shared/gpu-id.js";
import { type IMigDevice, SCHEMA_VERSION } from "../../../shared/proto.js";
import { runCaptured } from "../../helpers/cli.js";
import { startTestCollector, type TestCollector } from "../../security/collector-helpers.js";
import { frameFor } from "../leases/store-helpers.js";

const TOKEN = "mig-list-admin-token-0123456789";
const HOST = "mig-host";
const G1 = "GPU-513536b6-7d19-9063-b049-1e69664bb298";
const G2 = "GPU-bbbbbbbb-2222-3333-4444-555555555555";
const G3 = "GPU-cccccccc-2222-3333-4444-555555555555";
const mig = (i: number, profile: string, totalMib: number): IMigDevice => ({
  uuid: `MIG-${String(i).repeat(8)}-0000-0000-0000-000000000000`,
  device_index: i,
  profile,
  gpu_instance_id: 1 + i,
  compute_instance_id: 0,
  sm_count: 42,
  memory_total_mib: totalMib,
  memory_used_mib: 100 * (i + 1),
});
const G1_MIG = [mig(0, "3g.40gb", 40_192), mig(1, "3g.40gb", 40_192), mig(2, "1g.10gb", 9_856)];
const G3_MIG = [mig(3, "7g.80gb", 80_000)];

let c: TestCollector;

function writeInventory(withMig: boolean): void {
  const payload = encodeInventory({
    schema_version: SCHEMA_VERSION,
    host: HOST,
    timestamp_ms: Date.now(),
    gpus: [
      {
        index: 0,
        uuid: G1,
        name: "NVIDIA A100-SXM4-80GB",
        mig_mode: withMig,
        mig_devices: withMig ? G1_MIG : [],
      },
      { index: 1, uuid: G2, name: "NVIDIA A100-SXM4-80GB", mig_mode: false },
      {
        index: 2,
        uuid: G3,
        name: "NVIDIA A100-SXM4-80GB",
        mig_mode: withMig,
        mig_devices: withMig ? G3_MIG : [],
      },
    ],
  });
  const checked = checkMessage(`gputel/v1/${HOST}/inventory`, payload, {
    username: undefined,
    nowMs: Date.now(),
  });
  if (!checked.inventory) throw new Error(JSON.stringify(checked.rejections));
  c.running.store.writeInventory(checked.inventory, Date.now());
}

async function get<T>(path: string, token = TOKEN): Promise<T> {
  const response = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

const list = async (token = TOKEN) => (await get<{ gpus: GpuView[] }>("/api/v1/gpus", token)).gpus;

beforeAll(async () => {
  c = await startTestCollector({ token: TOKEN });
  const start = Date.now() - 10 * 60_000;
  const frames = Array.from({ length: 60 }, (_, i) =>
    frameFor(HOST, [G1, G2, G3], start + i * 10_000, i + 1),
  );
  c.running.store.writeFrames(frames, Date.now());
  writeInventory(true);
});
afterAll(async () => {
  await c?.close();
});

describe("MIG devices in the GPU list", () => {
  test("/api/v1/gpus lists a MIG GPU's devices in the compact form, none on a whole GPU", async () => {
    const by = new Map((await list()).map((g) => [g.uuid, g]));
    expect(by.get(G1)?.migDevices).toEqual(
      G1_MIG.map((d) => ({
        uuid: d.uuid,
        profile: d.profile,
        memoryTotalMib: d.memory_total_mib,
        memoryUsedMib: d.memory_used_mib,
        utilization: null,
        utilizationAbsent: MIG_NO_UTILIZATION,
      })),
    );
    expect(by.get(G3)?.migDevices?.map((d) => d.uuid)).toEqual([G3_MIG[0]?.uuid]);
    expect(by.get(G2)).toBeDefined();
    expect(by.get(G2)?.migDevices).toBeUndefined();
  });

  test("a tenant sees the devices of a GPU it leases whole, and no GPU it holds one MIG device of", async () => {
    const create = async (body: Record<string, unknown>) => {
      const response = await fetch(`${c.url}/api/v1/leases`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ tenant: "acme", start: new Date(Date.now() - 60_000).toISOString(), ...body }),
      });
      expect(response.status, await response.text()).toBe(201);
    };
    await create({ id: "acme-g3", device: G3 });
    await create({ id: "acme-m0", device: G1_MIG[0]?.uuid });
    const t = newToken();
    c.running.store.tokens.insert(t.id, "tenant:acme", t.digest, "", Date.now());
    const seen = await list(t.token);
    expect(seen.map((g) => [g.uuid, g.migDevices?.map((d) => d.profile)])).toEqual([[G3, ["7g.80gb"]]]);
  });

  test("the wall screen's compact poll is the same with or without MIG devices", async () => {
    const cells = async () => {
      const { generatedMs: _, ...rest } = await get<Record<string, unknown>>("/api/v1/fleet/cells");
      return JSON.stringify(rest);
    };
    const withMig = await cells();
    writeInventory(false);
    expect((await list()).some((g) => g.migDevices !== undefined)).toBe(false);
    const without = await cells();
    writeInventory(true);
    expect(withMig.length).toBe(without.length);
    expect(withMig).toBe(without);
  });

  test("gputel query gpus names a MIG GPU's devices on its line; gputel query gpu lists them", async () => {
    const query = async (args: string[]) => {
      const r = await runCaptured(runQuery, [...args, "--url", c.url], { GPUTEL_API_TOKEN: TOKEN });
      expect([r.code, r.err]).toEqual([0, ""]);
      return r.out.trimEnd().split("\n");
    };
    const lines = await query(["gpus"]);
    const line = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? "";
    expect(line(`${HOST}:0`)).toContain("NVIDIA A100-SXM4-80GB · MIG 3g.40gb×2, 1g.10gb");
    expect(line(`${HOST}:2`)).toContain("NVIDIA A100-SXM4-80GB · MIG 7g.80gb");
    expect(line(`${HOST}:1`)).toContain("NVIDIA A100-SXM4-80GB");
    expect(line(`${HOST}:1`)).not.toContain("MIG");
    const one = await query(["gpu", `${HOST}:0`]);
    const migLines = one.filter((l) => l.startsWith("MIG "));
    expect(migLines).toHaveLength(3);
    expect(migLines[2]).toMatch(
      new RegExp(
        `^MIG 1g\\.10gb\\s+${G1_MIG[2]?.uuid}  memory 300 MiB of 9856 MiB  utilization – \\(${MIG_NO_UTILIZATION}\\)$`,
      ),
    );
  });
});
