// The GPU panel's processes in chromium, against a collector whose process sessions came through
// the real ingest check and store: the holder's pid, name, user, Slurm job or pod, memory, SM
// share and since when; a MIG device column where the GPU is partitioned; a new process shows up
// with the panel's next refresh; a tenant token sees only its leased GPU's processes, "since" its
// lease began, and nothing of the others. The partitioned GPU's panel also lists its MIG devices
// (issue 17: index, profile, UUID, SMs, memory used of total, utilization absent with the reason
// on hover) from an inventory through the same check; a whole GPU's panel has no MIG section.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreProcessBackend } from "../../collector/api/process-backend.js";
import { StoreBackend } from "../../collector/api/store-backend.js";
import { newToken, storedTokenLookup } from "../../collector/api/tokens.js";
import { checkMessage } from "../../collector/ingest/check.js";
import { LeaseService } from "../../collector/leases/service.js";
import { encodeInventory } from "../../shared/codec.js";
import { MIG_NO_UTILIZATION } from "../../shared/gpu-id.js";
import { AbsentReason, type IProcessRecord, ProcessSet, SCHEMA_VERSION } from "../../shared/proto.js";
import { topicFor } from "../../shared/topics.js";
import { buildFleet, type FleetFixture, gpuUuid } from "../api/fleet-fixture.js";
import { type Browser, launchChromium, loadedDashboard, skipBrowser, startDashboardApi } from "./chromium.js";

const ADMIN = "processes-dashboard-admin-token-0123456789";
const MIN = 60_000;
const HOST = "node-a";
const POD = "dd1bf9d1-241d-47f5-8e25-12de83135812";
const CONTAINER = "f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830";
const MIG = "MIG-0b2f1c9e-0001-2222-3333-444455556666";
const MIG2 = "MIG-0b2f1c9e-0002-2222-3333-444455556666";

/** node-a's inventory, GPU 1 partitioned into two MIG devices (MIG and MIG2), through the collector's check. */
function migInventory(f: FleetFixture): void {
  const device = (i: number, uuid: string, profile: string, usedMib: number) => ({
    uuid,
    device_index: i,
    profile,
    gpu_instance_id: 1 + i,
    compute_instance_id: 0,
    sm_count: 60 - 28 * i,
    memory_total_mib: 40_448,
    memory_used_mib: usedMib,
  });
  const payload = encodeInventory({
    schema_version: SCHEMA_VERSION,
    host: HOST,
    timestamp_ms: f.nowMs,
    gpus: Array.from({ length: 4 }, (_, i) => ({
      index: i,
      uuid: gpuUuid(0, i),
      name: "NVIDIA H100 80GB HBM3",
      mig_mode: i === 1,
      mig_devices: i === 1 ? [device(0, MIG, "4g.40gb", 20_480), device(1, MIG2, "3g.40gb", 0)] : [],
    })),
  });
  const checked = checkMessage(topicFor(HOST, "inventory"), payload, { username: undefined, nowMs: f.nowMs });
  if (!checked.inventory) throw new Error(JSON.stringify(checked.rejections));
  f.store.writeInventory(checked.inventory, f.nowMs);
}

describe.skipIf(skipBrowser)("processes in the GPU panel (chromium)", () => {
  let fleet: FleetFixture | undefined;
  let server: Awaited<ReturnType<typeof startDashboardApi>> | undefined;
  let browser: Browser | undefined;
  let url = "";
  let tenant = "";
  let seq = 0;

  const bob: IProcessRecord = {
    gpu_uuid: gpuUuid(0, 2),
    pid: 4121,
    name: "python3",
    used_memory_mib: 40_000,
    sm_pct: 12,
    mem_pct: 5,
    uid: 1002,
    user: "bob",
    workload_kind: "slurm",
    slurm_job_id: "88123",
  };
  const alice: IProcessRecord = {
    gpu_uuid: gpuUuid(0, 0),
    pid: 5000,
    name: "vllm",
    used_memory_mib: 60_000,
    uid: 1001,
    user: "alice",
    workload_kind: "kubernetes",
    pod_uid: POD,
    container_id: CONTAINER,
  };
  const onMig: IProcessRecord = {
    ...alice,
    gpu_uuid: gpuUuid(0, 1),
    mig_uuid: MIG,
    pid: 6001,
    name: "trainer",
  };

  const unreadable: IProcessRecord = {
    gpu_uuid: gpuUuid(0, 0),
    pid: 8008,
    name: "ghost",
    used_memory_mib: 512,
    absent: ["status", "cgroup"].map((file) => ({
      field: "proc",
      reason: AbsentReason.ABSENT_REASON_ERROR,
      why: `${file}: EACCES`,
    })),
  };

  /** One process set of node-a, through the collector's own check, into the store. */
  function writeSet(atMs: number, processes: IProcessRecord[]): void {
    const f = fleet as FleetFixture;
    seq += 1;
    const payload = ProcessSet.encode({
      schema_version: SCHEMA_VERSION,
      host: HOST,
      boot_id: "boot-a",
      seq,
      timestamp_ms: atMs,
      processes: processes.map((p) => ({ ...p, start_ms: f.nowMs - 3 * 60 * MIN })),
    }).finish();
    const checked = checkMessage(topicFor(HOST, "processes"), payload, {
      username: undefined,
      nowMs: f.nowMs,
    });
    if (!checked.processes) throw new Error(JSON.stringify(checked.rejections));
    f.store.writeProcesses(checked.processes, atMs);
  }

  beforeAll(async () => {
    fleet = buildFleet({ hours: 1 });
    const f = fleet;
    writeSet(f.nowMs - 60 * MIN, [bob, alice]);
    writeSet(f.nowMs - MIN, [bob, alice, onMig]);
    migInventory(f);
    const leases = new LeaseService(f.store.leases, () => f.nowMs);
    leases.create({ id: "l-acme", device: gpuUuid(0, 2), tenant: "acme", start: f.nowMs - 30 * MIN }, "t");
    const t = newToken();
    f.store.tokens.insert(t.id, "tenant:acme", t.digest, "", f.nowMs);
    tenant = t.token;
    const now = () => f.nowMs;
    server = await startDashboardApi({
      backend: new StoreBackend({
        store: f.store,
        flags: f.flags,
        now,
        processes: new StoreProcessBackend({ store: f.store, flags: f.flags, now }),
      }),
      token: ADMIN,
      leases,
      tokens: storedTokenLookup(f.store.tokens),
    });
    url = server.url;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    fleet?.close();
  });

  it("lists the GPU's holders and refreshes with the panel; a MIG GPU names the device", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${ADMIN}`);
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 2)}"]`).click();
    const table = page.locator("#detail-processes");
    await table.locator('tr[data-pid="4121"]').waitFor({ timeout: 10_000 });
    expect(await table.locator("th").allTextContents()).toEqual([
      "pid",
      "process",
      "user",
      "container / pod / job",
      "memory",
      "SM",
      "mem BW",
      "since",
    ]);
    expect(await table.locator('tr[data-pid="4121"] td').allTextContents()).toEqual([
      "4121",
      "python3",
      "bob",
      "Slurm job 88123",
      "39.1 GiB",
      "12%",
      "5%",
      "1h 00m",
    ]);
    expect(await page.locator("#detail-processes-head").textContent()).toBe("Processes (1)");

    // A new holder arrives: the open panel shows it at its next refresh, without reopening.
    writeSet((fleet as FleetFixture).nowMs - 30_000, [
      bob,
      alice,
      onMig,
      { ...bob, pid: 7001, name: "torchrun", used_memory_mib: 1024, sm_pct: null, mem_pct: null },
      unreadable,
    ]);
    await table.locator('tr[data-pid="7001"]').waitFor({ timeout: 15_000 });
    expect(await page.locator("#detail-processes-head").textContent()).toBe("Processes (2)");
    expect(await table.locator('tr[data-pid="7001"] td').allTextContents()).toEqual([
      "7001",
      "torchrun",
      "bob",
      "Slurm job 88123",
      "1.0 GiB",
      "–",
      "–",
      "0m",
    ]);

    // A process whose /proc the agent could not read: its user is "–", and the cell says why.
    await page.keyboard.press("Escape");
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 0)}"]`).click();
    const user = table.locator('tr[data-pid="8008"] td').nth(2);
    await user.waitFor({ timeout: 10_000 });
    expect(await user.textContent()).toBe("–");
    expect(await user.getAttribute("title")).toBe("not read from /proc: status: EACCES, cgroup: EACCES");

    await page.keyboard.press("Escape");
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 1)}"]`).click();
    const mig = table.locator('tr[data-pid="6001"]');
    await mig.waitFor({ timeout: 10_000 });
    expect(await table.locator("th").allTextContents()).toContain("MIG device");
    const cells = mig.locator("td");
    expect(await cells.allTextContents()).toEqual([
      "6001",
      "trainer",
      "alice",
      "pod dd1bf9d1-241… · ctr f45298cd514d…",
      "MIG-0b2f1c9e…",
      "58.6 GiB",
      "–",
      "–",
      "1m",
    ]);
    expect(await cells.nth(4).getAttribute("title")).toBe(MIG);
    expect(await cells.nth(3).getAttribute("title")).toBe(`pod ${POD}\ncontainer ${CONTAINER}`);

    await page.keyboard.press("Escape");
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 3)}"]`).click();
    await page
      .locator("#detail-processes tr.empty")
      .filter({ hasText: "No compute process on this GPU now." })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-processes-head").textContent()).toBe("Processes (0)");

    // node-b's agent sends no process sets: its GPU's list is unknown, not empty.
    await page.keyboard.press("Escape");
    await page.locator(`.cell[data-uuid="${gpuUuid(1, 0)}"]`).click();
    await page
      .locator("#detail-processes tr.empty")
      .filter({ hasText: "Unknown: this host's agent sends no process sets" })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-processes-head").textContent()).toBe("Processes (unknown)");
    expect(failed).toEqual([]);
  }, 90_000);

  it("a MIG GPU's panel lists its devices with memory and no utilization; a whole GPU's has none", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${ADMIN}`);
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 1)}"]`).click();
    const table = page.locator("#detail-mig");
    await table.locator(`tr[data-mig="${MIG2}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator("#detail-mig-head").textContent()).toBe("MIG devices (2)");
    expect(await table.locator("th").allTextContents()).toEqual([
      "#",
      "profile",
      "UUID",
      "SMs",
      "memory used",
      "utilization",
    ]);
    const first = table.locator(`tr[data-mig="${MIG}"] td`);
    expect(await first.allTextContents()).toEqual(["0", "4g.40gb", MIG, "60", "20.0 GiB / 39.5 GiB", "–"]);
    expect(await first.last().getAttribute("title")).toBe(MIG_NO_UTILIZATION);
    expect(await table.locator(`tr[data-mig="${MIG2}"] td`).allTextContents()).toEqual([
      "1",
      "3g.40gb",
      MIG2,
      "32",
      "0.0 GiB / 39.5 GiB",
      "–",
    ]);

    await page.keyboard.press("Escape");
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 2)}"]`).click();
    await page.locator("#detail-title").filter({ hasText: "node-a · GPU 2" }).waitFor({ timeout: 10_000 });
    await page.locator("#detail-mig").waitFor({ state: "hidden", timeout: 10_000 });
    expect(await page.locator("#detail-mig-head").isHidden()).toBe(true);
    expect(await page.locator("#detail-mig tr").count()).toBe(0);
    expect(failed).toEqual([]);
  }, 90_000);

  it("a tenant sees its leased GPU's processes since its lease began, and nothing else", async () => {
    if (!browser) throw new Error("chromium did not start");
    const { page, failed } = await loadedDashboard(browser, url, `/#token=${tenant}`);
    await page.locator(`.cell[data-uuid="${gpuUuid(0, 2)}"]`).click();
    const row = page.locator('#detail-processes tr[data-pid="4121"]');
    await row.waitFor({ timeout: 10_000 });
    // Held for an hour, but this tenant's lease began 30 min ago.
    expect(await row.locator("td").last().textContent()).toBe("30m");
    const body = (await page.locator("body").textContent()) ?? "";
    for (const other of ["alice", "vllm", "trainer", POD.slice(0, 8), MIG.slice(0, 12)])
      expect(body).not.toContain(other);
    expect(failed).toEqual([]);
  }, 60_000);
});
