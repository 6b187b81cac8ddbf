// Statement benchmark (issue 15): `report.statement_30d_10k_gpus_ms`, target < 200 ms. 10,000
// GPUs, a 30-day month (June 2026), 500 tenants, 20,000 leases over the month: 4,000 GPUs leased
// the whole month, 2,000 re-leased eight times each (back to back or with a gap, at odd
// milliseconds, so every boundary reads minute rows), the other 4,000 for sale. Flags as a fleet
// has them: two idle episodes per GPU, a lost GPU in a hundred, a host offline in fifty.
//
// The reading: the figure names 10,000 GPUs and the issue gives 500 tenants and 20,000 leases, so
// what is timed is the month's statements of the whole fleet, every tenant's one after another,
// each as GET /api/v1/reports/statement runs it (answerRead's leaseParts on the read worker's
// connection inside one snapshot, then buildStatement): the billing run over the API. One
// tenant's statement alone reads 40 leases and says little about the fleet; its median is printed
// too (`report.statement_one_tenant_ms`), the lease report over all tenants in one request
// (`report.leases_30d_all_tenants_ms`, what the dashboard's reports by tenant ask), and the same
// month's statements of every tenant in one request (`report.statement_all_tenants_one_request_ms`:
// all_tenants=true, one read of every lease, then buildStatements).
// Median of 5 runs each.
//
// Data: bench/report.ts's bulk loader (hour rows over the month, minute rows in every hour that
// holds a lease boundary), leases and flags written straight into their tables.
// Size: "full" as above; "smoke" 500 GPUs, 25 tenants, 1,000 leases over the month's first 3 days.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answerRead } from "../collector/api/read-requests.js";
import { SNAPSHOT_MS } from "../collector/api/read-worker.js";
import type { NewFlag } from "../collector/flags/types.js";
import type { Lease } from "../collector/leases/model.js";
import { buildStatements } from "../collector/reports/all-statements.js";
import { buildLeaseReport, buildStatement } from "../collector/reports/lease-report.js";
import { type LeaseParts, monthRange } from "../collector/reports/lease-reports.js";
import { Store } from "../collector/store/store.js";
import { type BenchFigure, median } from "./common.js";
import { fillFleet, RollupFiller } from "./report.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const MONTH = "2026-06";
const MONTH_START = Date.UTC(2026, 5, 1);
const TIERS = ["48h:raw", "30d:1m", "2y:1h"];
const RELEASES = 8;

interface Shape {
  gpus: number;
  tenants: number;
  /** GPUs leased the whole range, and GPUs re-leased RELEASES times. */
  whole: number;
  released: number;
  days: number;
}

const SHAPES: Record<"full" | "smoke", Shape> = {
  full: { gpus: 10_000, tenants: 500, whole: 4_000, released: 2_000, days: 30 },
  smoke: { gpus: 500, tenants: 25, whole: 200, released: 100, days: 3 },
};

/** A small deterministic generator: the same leases and flags every run. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function lease(n: number, gpu: string, tenants: number, startMs: number, endMs: number | null): Lease {
  return {
    id: `L-${String(n).padStart(6, "0")}`,
    device: gpu,
    gpu,
    tenant: `tenant-${String(n % tenants).padStart(3, "0")}`,
    startMs,
    endMs,
    contract: null,
    priceMicros: 1_800_000 + (n % 7) * 100_000,
    currency: n % 5 === 0 ? "USD" : "EUR",
    availabilityMilli: 99_500,
    labels: {},
    source: "import",
  };
}

/** The leases, and the (GPU, hour) pairs whose minutes a statement reads at their boundaries. */
function leasesOf(shape: Shape, uuids: readonly string[], toMs: number) {
  const next = lcg(15);
  const leases: Lease[] = [];
  const edgeHours = new Map<number, Set<number>>();
  const edge = (gpuIndex: number, t: number) => {
    if (t <= MONTH_START || t >= toMs) return;
    const hours = edgeHours.get(gpuIndex) ?? new Set<number>();
    hours.add(t - (t % HOUR));
    edgeHours.set(gpuIndex, hours);
  };
  for (let g = 0; g < shape.whole; g++)
    leases.push(lease(leases.length, uuids[g] as string, shape.tenants, MONTH_START - 86_400_000, null));
  const span = (toMs - MONTH_START) / RELEASES;
  for (let g = shape.whole; g < shape.whole + shape.released; g++) {
    let at = MONTH_START + Math.floor(next() * HOUR);
    for (let k = 0; k < RELEASES; k++) {
      // Back to back, or a gap of up to two hours for sale between two tenants.
      const end = Math.min(toMs - 1, MONTH_START + (k + 1) * span + Math.floor(next() * HOUR) + 17);
      leases.push(
        lease(leases.length, uuids[g] as string, shape.tenants, at, k === RELEASES - 1 ? null : end),
      );
      edge(g, at);
      edge(g, end);
      at = next() < 0.5 ? end : end + Math.floor(next() * 2 * HOUR);
    }
  }
  return { leases, edgeHours };
}

function flagsOf(shape: Shape, uuids: readonly string[], toMs: number): (NewFlag & { endMs: number })[] {
  const next = lcg(7);
  const at = () => MONTH_START + Math.floor(next() * (toMs - MONTH_START - 2 * HOUR));
  const host = (g: number) => `node-${String(Math.floor(g / 8)).padStart(5, "0")}`;
  const base = { severity: "warning" as const, site: "fra1", labels: {}, values: {} };
  const out: (NewFlag & { endMs: number })[] = [];
  for (let g = 0; g < shape.gpus; g++) {
    const gpu = { host: host(g), gpuUuid: uuids[g] as string, gpuIndex: g % 8 };
    for (let k = 0; k < 2; k++) {
      const startMs = at();
      out.push({
        ...base,
        ...gpu,
        kind: "idle",
        startMs,
        endMs: startMs + 15 * MIN + Math.floor(next() * HOUR),
        reason: "idle",
      });
    }
    if (g % 100 === 3) {
      const startMs = at();
      out.push({
        ...base,
        ...gpu,
        kind: "lost",
        severity: "critical",
        startMs,
        endMs: startMs + 20 * MIN,
        reason: "lost",
      });
    }
  }
  for (let h = 0; h < shape.gpus / 8; h += 50) {
    const startMs = at();
    out.push({
      ...base,
      host: host(h * 8),
      gpuUuid: null,
      gpuIndex: null,
      kind: "offline",
      startMs,
      endMs: startMs + HOUR,
      reason: "offline",
    });
  }
  return out;
}

/** The bench's database at `path` (exported for profiling scripts that reuse one file). */
export function buildStatementFile(
  path: string,
  size: "full" | "smoke",
): { toMs: number; leases: number; tenants: string[] } {
  const shape = SHAPES[size];
  const store = Store.open(path, { retention: TIERS });
  const toMs = MONTH_START + shape.days * 86_400_000;
  fillFleet(store, shape.gpus, shape.days, { toMs, finish: false });
  const gpus = store.db.prepare("SELECT id, uuid FROM gpus ORDER BY id").all() as {
    id: number;
    uuid: string;
  }[];
  const uuids = gpus.map((g) => g.uuid);
  const { leases, edgeHours } = leasesOf(shape, uuids, toMs);
  store.db.transaction(() => {
    for (const l of leases) store.leases.insert(l, MONTH_START);
    const flags = store.flagStore();
    for (const f of flagsOf(shape, uuids, toMs))
      flags.close({ ...flags.insert(f, f.startMs), endMs: f.endMs });
  })();
  const filler = new RollupFiller(store);
  for (const [g, hours] of edgeHours)
    for (const hour of hours) filler.fill(0, hour, hour + HOUR, [(gpus[g] as { id: number }).id]);
  store.rebuildUsageEdges();
  store.checkpoint();
  store.close();
  return { toMs, leases: leases.length, tenants: [...new Set(leases.map((l) => l.tenant))].sort() };
}

export async function benchStatement(size: "full" | "smoke"): Promise<BenchFigure[]> {
  const shape = SHAPES[size];
  const dir = mkdtempSync(join(tmpdir(), "gputel-bench-statement-"));
  try {
    const path = join(dir, "statement.db");
    const t0 = performance.now();
    const { toMs, leases, tenants } = buildStatementFile(path, size);
    const fillMs = performance.now() - t0;
    const reader = Store.openReader(path, { retention: TIERS });
    const flags = reader.flagStore();
    const parts = (tenant?: string): LeaseParts =>
      reader.read(
        () =>
          answerRead(reader, flags, {
            op: "leaseParts",
            ...monthRange(MONTH),
            nowMs: toMs,
            ...(tenant !== undefined ? { tenant } : {}),
          }) as LeaseParts,
        SNAPSHOT_MS,
      );
    parts(tenants[0]); // the snapshot's memory, as the read worker has it between requests
    const all: number[] = [];
    const one: number[] = [];
    const report: number[] = [];
    const billing: number[] = [];
    let lines = 0;
    let billed = 0;
    for (let run = 0; run < 5; run++) {
      lines = 0;
      const started = performance.now();
      for (const tenant of tenants) {
        const t = performance.now();
        const p = parts(tenant);
        lines += buildStatement({ tenant, month: MONTH, ...p }, p.parts).lines.length;
        one.push(performance.now() - t);
      }
      all.push(performance.now() - started);
      const t = performance.now();
      const p = parts();
      buildLeaseReport(p, "tenant", p.parts);
      report.push(performance.now() - t);
      const b = performance.now();
      const whole = parts();
      const { fromMs, toMs: endMs, nowMs } = whole;
      const every = buildStatements({ month: MONTH, fromMs, toMs: endMs, nowMs }, whole.parts);
      billing.push(performance.now() - b);
      billed = every.statements.reduce((n, s) => n + s.lines.length, 0);
    }
    if (lines !== leases || billed !== leases)
      throw new Error(`the statements have ${lines} and ${billed} lines for ${leases} leases`);
    reader.close();
    const what = `${shape.gpus} GPUs, ${tenants.length} tenants, ${leases} leases, ${MONTH}`;
    return [
      {
        name: "report.statement_30d_10k_gpus_ms",
        value: median(all),
        unit: `ms (every tenant's statement, one request each: ${what}; ${shape.days} d of data)`,
      },
      {
        name: "report.statement_one_tenant_ms",
        value: median(one),
        unit: `ms (median of one tenant's statement)`,
      },
      {
        name: "report.statement_all_tenants_one_request_ms",
        value: median(billing),
        unit: `ms (every tenant's statement in one request, all_tenants=true: ${what})`,
      },
      {
        name: "report.leases_30d_all_tenants_ms",
        value: median(report),
        unit: `ms (lease report by tenant: ${what})`,
      },
      { name: "report.statement_fill_s", value: fillMs / 1000, unit: "s" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
