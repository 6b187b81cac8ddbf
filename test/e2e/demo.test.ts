// `npm start` (scripts/demo.mjs) as a first-time user runs it: a collector and four mock-GPU
// agents come up, the API sees the whole mixed fleet and an overheat flag, the demo's leases
// exist (a tenant with an idle-held GPU, one GPU for sale, one GPU moved from globex to initech
// partway through: the old lease ended where the new one starts) and the tenants view and the
// sales figures show them; an interrupt stops every part cleanly (exit 0, nothing thrown, no
// part left running), agents before the collector so that none of them warns of a reset
// connection.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/net.js";

const ROOT = process.cwd();
let demo: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  demo?.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface LeaseBody {
  id: string;
  device: string;
  tenant: string;
  startMs: number;
  endMs: number | null;
  state: string;
}
interface TenantsBody {
  tenants: {
    tenant: string;
    leasedGpus: number;
    idleHeldNow: number;
    gpus: { host: string; index: number }[];
  }[];
}

interface SummaryBody {
  hosts: { total: number; byStatus: Record<string, number> };
  gpus: { total: number };
  flags: { byKind: Record<string, number> };
}

describe("npm start (scripts/demo.mjs)", () => {
  it("serves the mixed mock fleet with its flags and leases, and stops cleanly on SIGINT", {
    timeout: 180_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-demo-"));
    const child = spawn(process.execPath, [join(ROOT, "scripts/demo.mjs")], {
      cwd: ROOT,
      env: { ...process.env, GPUTEL_DEMO_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    demo = child;
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    await waitFor(() => /API\s+http:\/\/\S+\/api\/v1\/summary/.test(output), 30_000, "the demo's banner");
    const api = (/API\s+(http:\/\/\S+\/api\/v1\/summary)/.exec(output) as RegExpExecArray)[1] as string;

    let summary: SummaryBody | undefined;
    const fleetShown = waitFor(
      async () => {
        const response = await fetch(api).catch(() => undefined);
        if (!response?.ok) return false;
        summary = (await response.json()) as SummaryBody;
        return (
          summary.gpus.total === 18 &&
          summary.hosts.byStatus.online === 4 &&
          (summary.flags.byKind.overheat ?? 0) >= 1
        );
      },
      90_000,
      "18 GPUs on 4 online hosts and an overheat flag",
    );
    await fleetShown.catch((error: Error) => {
      throw new Error(`${error.message}; last summary: ${JSON.stringify(summary)}`);
    });

    // The demo's leases, made through the API once every GPU reported; the move comes 45 s later.
    const base = api.replace(/\/api\/v1\/summary$/, "");
    const json = async <T>(path: string): Promise<T | undefined> => {
      const response = await fetch(`${base}${path}`).catch(() => undefined);
      return response?.ok ? ((await response.json()) as T) : undefined;
    };
    let leases: LeaseBody[] = [];
    await waitFor(
      async () => {
        leases = (await json<{ leases: LeaseBody[] }>("/api/v1/leases"))?.leases ?? [];
        return leases.some((l) => l.id === "demo-initech-hgx-b02-3");
      },
      90_000,
      "the demo's leases, hgx-b02 GPU 3 moved to initech",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; leases: ${leases.map((l) => l.id).join(", ")}; output:\n${output}`);
    });
    expect(leases).toHaveLength(18); // 17 GPUs leased, one of them twice; ws-d04 GPU 1 for sale
    const before = leases.find((l) => l.id === "demo-globex-hgx-b02-3");
    const after = leases.find((l) => l.id === "demo-initech-hgx-b02-3");
    expect(before?.endMs).not.toBeNull();
    expect(after?.device).toBe(before?.device);
    expect(after?.startMs).toBe(before?.endMs);
    expect(after?.endMs).toBeNull();

    const view = (await json<TenantsBody>("/api/v1/tenants")) as TenantsBody;
    const row = (t: string) => view.tenants.find((r) => r.tenant === t);
    expect(view.tenants.map((t) => [t.tenant, t.leasedGpus])).toEqual([
      ["acme", 12],
      ["globex", 3],
      ["initech", 2],
    ]);
    expect(row("acme")?.idleHeldNow).toBeGreaterThanOrEqual(1); // dgx-a01 GPU 7
    expect(
      row("initech")
        ?.gpus.map((g) => `${g.host}:${g.index}`)
        .sort(),
    ).toEqual(["hgx-b02:3", "ws-d04:0"]);
    const sales = await json<{ total: { forSaleNow: number }; forSale: { model: string; gpus: number }[] }>(
      "/api/v1/reports/sales?from=1h",
    );
    expect(sales?.total.forSaleNow).toBe(1);
    expect(sales?.forSale).toMatchObject([{ model: "NVIDIA GeForce RTX 4080 SUPER", gpus: 1 }]);
    expect(output).toContain("hgx-b02:3 moved from globex to initech");

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("Stopping the demo");
    expect(output).not.toMatch(/TypeError|not open|exited \(|did not stop/);
    // Agents stop before the collector: no connection reset while stopping (issue 18).
    expect(output).not.toMatch(/ECONNRESET|Broker connection closed|MQTT error/);
  });
});
