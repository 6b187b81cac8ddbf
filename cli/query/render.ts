// People-facing views of the API's answers. Flags and hot GPUs stand out in colour.
import type { GpuView, MigDeviceBrief, Report, Summary } from "../../collector/contract/api-contract.js";
import type { Flag } from "../../collector/flags/types.js";
import type { SalesReport } from "../../collector/reports/sales-report.js";
import { gpuName } from "../../shared/gpu-id.js";
import { type Cell, type Colour, duration, fixed, paint, percent, type Style, table } from "./table.js";

const KIND_COLOUR: Record<string, Colour> = {
  overheat: "red",
  throttled: "yellow",
  "idle-held": "yellow",
  idle: "grey",
  lost: "magenta",
  error: "magenta",
  stale: "magenta",
  offline: "magenta",
};

function counts(record: Record<string, number | undefined>): string {
  const parts = Object.entries(record).map(([k, v]) => `${k} ${v ?? 0}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

/** GPU-hours, with more digits while small (a fresh collector has minutes of data). */
function gpuHours(h: number): string {
  return `${h.toFixed(h > 0 && h < 10 ? 2 : 1)} GPU-h`;
}

export function renderSummary(s: Summary, style: Style): string {
  const r = s.utilization.range;
  const hours = (r.toMs - r.fromMs) / 3_600_000;
  const hot = s.flags.byKind.overheat ?? 0;
  const rows: [string, string][] = [
    ["GPUs", `${s.gpus.total}  (${counts(s.gpus.byState)})`],
    ["Hosts", `${s.hosts.total}  (${counts(s.hosts.byStatus)})`],
    [
      "Busy now",
      `${percent(s.utilization.now.rate)}  (${s.utilization.now.busy} of ${s.utilization.now.known} known)`,
    ],
    [
      `Last ${fixed(hours, hours % 1 === 0 ? 0 : 1)} h`,
      `utilization ${percent(r.utilizationRate)}  busy ${gpuHours(r.busyHours)}  idle ${gpuHours(r.idleHours)}  idle-held ${gpuHours(r.idleHeldHours)}  unknown ${gpuHours(r.unknownHours)}`,
    ],
    ["Energy", `${fixed(r.energyKwh, 2)} kWh  (idle ${fixed(r.energyIdleKwh, 2)} kWh)`],
    [
      "Open flags",
      `${paint(style, s.flags.open > 0 ? "yellow" : undefined, String(s.flags.open))}  (${
        Object.entries(s.flags.byKind)
          .map(([k, v]) => paint(style, KIND_COLOUR[k], `${k} ${v}`))
          .join(", ") || "none"
      })`,
    ],
  ];
  if (hot > 0) rows.push(["Overheating", paint(style, "red", `${hot} GPU${hot === 1 ? "" : "s"}`)]);
  return `${rows.map(([k, v]) => `${paint(style, "bold", k.padEnd(12))}${v}`).join("\n")}\n`;
}

function isHot(g: GpuView): boolean {
  const t = g.values.temperature_gpu_celsius;
  const slowdown = g.inventory?.slowdownTemperatureC;
  return (
    g.flags.some((f) => f.kind === "overheat") ||
    (t !== undefined && slowdown !== undefined && t >= slowdown - 5)
  );
}

/** "MIG 3g.40gb×2, 1g.10gb": a partitioned GPU's devices by profile, in the inventory's order. */
export function migText(devices: readonly MigDeviceBrief[]): string {
  const count = new Map<string, number>();
  for (const d of devices) count.set(d.profile || "?", (count.get(d.profile || "?") ?? 0) + 1);
  return `MIG ${[...count].map(([p, n]) => (n > 1 ? `${p}×${n}` : p)).join(", ")}`;
}

const mib = (v: number | null) => (v === null ? "–" : `${v} MiB`);

export function renderGpus(gpus: readonly GpuView[], style: Style): string {
  if (gpus.length === 0) return "No GPUs.\n";
  const rows = gpus.map((g): Cell[] => {
    const hot = isHot(g);
    const v = g.values;
    const kinds = [...new Set(g.flags.map((f) => f.kind))];
    return [
      { text: gpuName(g.host, g.index) },
      { text: g.migDevices ? `${g.model} · ${migText(g.migDevices)}` : g.model },
      { text: g.state, ...(g.state !== "ok" ? { colour: "magenta" as const } : {}) },
      { text: fixed(v.utilization_gpu_pct, 0, " %"), right: true },
      {
        text: fixed(v.temperature_gpu_celsius, 0, " °C"),
        right: true,
        ...(hot ? { colour: "red" as const } : {}),
      },
      { text: fixed(v.power_draw_watts, 0, " W"), right: true },
      {
        text: v.memory_used_mib === undefined ? "–" : `${(v.memory_used_mib / 1024).toFixed(1)} GiB`,
        right: true,
      },
      { text: kinds.map((k) => paint(style, KIND_COLOUR[k], k)).join(",") || "" },
    ];
  });
  return table(style, ["GPU", "MODEL", "STATE", "UTIL", "TEMP", "POWER", "MEMORY", "FLAGS"], rows);
}

export function renderGpu(g: GpuView, style: Style): string {
  const lines: [string, string][] = [
    ["GPU", `${g.host}:${g.index}  ${g.uuid}`],
    ["Model", g.model],
    [
      "Site",
      `${g.site}  ${Object.entries(g.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    ],
    [
      "State",
      `${g.state}${g.timestampMs !== null ? `  (sample ${new Date(g.timestampMs).toISOString()})` : ""}`,
    ],
  ];
  if (g.inventory)
    lines.push([
      "Inventory",
      `serial ${g.inventory.serial}  VBIOS ${g.inventory.vbiosVersion}  driver ${g.inventory.driverVersion}  slowdown ${fixed(g.inventory.slowdownTemperatureC, 0, " °C")}`,
    ]);
  for (const [k, v] of Object.entries(g.values)) lines.push([k, String(v)]);
  for (const m of g.migDevices ?? [])
    lines.push([
      `MIG ${m.profile}`,
      `${m.uuid || "(no UUID)"}  memory ${mib(m.memoryUsedMib)} of ${mib(m.memoryTotalMib)}  utilization – (${m.utilizationAbsent})`,
    ]);
  for (const f of g.flags) lines.push([paint(style, KIND_COLOUR[f.kind], `flag ${f.kind}`), f.reason]);
  return `${lines.map(([k, v]) => `${paint(style, "bold", k.padEnd(30))}${v}`).join("\n")}\n`;
}

export function renderFlags(
  flags: readonly (Flag & { durationMs?: number })[],
  nowMs: number,
  style: Style,
  /** The rows are already in the order asked (--sort). */
  keepOrder = false,
): string {
  if (flags.length === 0) return "No flags.\n";
  const rank = { critical: 0, warning: 1, info: 2 } as Record<string, number>;
  const sorted = keepOrder
    ? flags
    : [...flags].sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || b.startMs - a.startMs);
  const rows = sorted.map((f): Cell[] => [
    { text: f.kind, ...(KIND_COLOUR[f.kind] ? { colour: KIND_COLOUR[f.kind] } : {}) },
    { text: f.severity, ...(f.severity === "critical" ? { colour: "red" as const } : {}) },
    { text: gpuName(f.host, f.gpuIndex) },
    { text: new Date(f.startMs).toISOString().replace(/\.\d+Z$/, "Z") },
    { text: f.endMs === null ? "open" : "closed" },
    { text: duration(f.durationMs ?? (f.endMs ?? nowMs) - f.startMs), right: true },
    { text: f.reason },
  ]);
  return table(style, ["KIND", "SEVERITY", "GPU", "SINCE", "STATE", "FOR", "REASON"], rows);
}

const TITLES: Record<string, string> = {
  busyGpuHours: "BUSY h",
  idleGpuHours: "IDLE h",
  idleHeldGpuHours: "IDLE-HELD h",
  unknownGpuHours: "UNKNOWN h",
  unknownReportedGpuHours: "UNREADABLE h",
  noDataGpuHours: "NO DATA h",
  // Busy share (time at or above the idle threshold) and mean utilization (the average load) are
  // different questions: the titles keep them apart.
  utilizationRate: "BUSY SHARE",
  utilizationRateIncludingUnknown: "BUSY INCL. UNKNOWN",
  meanUtilizationPct: "MEAN UTIL %",
  energyKwh: "kWh",
  idleEnergyKwh: "IDLE kWh",
  wastedShare: "WASTED",
  installedGpuHours: "INSTALLED h",
  leasedGpuHours: "LEASED h",
  soldRate: "SOLD",
  usedRate: "USED",
  forSaleNow: "FOR SALE NOW",
  forSalePflops: "FOR SALE PFLOPS",
};

/** Short titles for the known columns; otherwise "throttleGpuMinutesLost" → "THROTTLE GPU MINUTES LOST". */
function columnTitle(name: string): string {
  return TITLES[name] ?? name.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
}

function cellOf(name: string, value: string | number | null | undefined): Cell {
  if (name === "gpus" && typeof value === "number") return { text: String(value), right: true };
  if (value === null || value === undefined) return { text: "–", right: true };
  if (typeof value === "string") return { text: value };
  // Ratios (0–1) print as percentages; downtime's `availability` is one though its name is bare.
  if (/Rate|Share$|^availability$/.test(name)) return { text: percent(value), right: true };
  if (/Hours$/.test(name)) return { text: fixed(value, 1), right: true };
  if (/Kwh$|Pflops$/.test(name)) return { text: fixed(value, 2), right: true };
  if (/Pct$/.test(name)) return { text: fixed(value, 1), right: true };
  return { text: Number.isInteger(value) ? String(value) : value.toFixed(1), right: true };
}

type Row = Record<string, unknown> & { key: string };

/**
 * Scalar columns of the groups, in first-seen order (nested lists such as capacity's models left
 * out, and the exact integers in ms beside the hours: JSON and CSV keep those).
 */
function columnsOf(rows: readonly Row[]): string[] {
  const names = new Set<string>();
  for (const row of rows)
    for (const [k, v] of Object.entries(row))
      if (k !== "key" && !k.endsWith("Ms") && (v === null || typeof v !== "object")) names.add(k);
  return [...names];
}

export function renderReport(r: Report | SalesReport, style: Style): string {
  const groups = r.groups as unknown as Row[];
  const total = r.total as unknown as Row;
  const columns = columnsOf([...groups, total]);
  const header = [r.groupBy.toUpperCase(), ...columns.map(columnTitle)];
  const scalar = (v: unknown) =>
    typeof v === "number" || typeof v === "string" || v === null ? v : undefined;
  const rows = groups.map((row): Cell[] => [
    { text: row.key || "(none)" },
    ...columns.map((c) => cellOf(c, scalar(row[c]))),
  ]);
  const totalRow: Cell[] = [
    { text: "TOTAL", colour: "bold" },
    ...columns.map((c) => cellOf(c, scalar(total[c]))),
  ];
  const hours = columns.some((c) => c.endsWith("Hours")) ? " (h: GPU-hours)" : "";
  let out = `${r.kind} report ${new Date(r.fromMs).toISOString()} → ${new Date(r.toMs).toISOString()}${hours}\n`;
  out += table(style, header, [...rows, totalRow]);
  if (r.kind === "thermal" && r.hottest.length > 0) {
    out += `\nHottest GPUs\n${table(
      style,
      ["GPU", "MODEL", "MAX", "UUID"],
      r.hottest.map((h) => [
        { text: gpuName(h.host, h.index) },
        { text: h.model },
        {
          text: fixed(h.maxTemperatureC, 0, " °C"),
          right: true,
          ...(h.maxTemperatureC >= 85 ? { colour: "red" as const } : {}),
        },
        { text: h.uuid },
      ]),
    )}`;
  }
  if (r.kind === "downtime" && r.down.length > 0) {
    out += `\nDown GPUs (longest first)\n${table(
      style,
      ["GPU", "MODEL", "DOWN", "FROM", "TO", "WHY"],
      r.down.flatMap((g) =>
        g.intervals.map((i, n) => [
          { text: n === 0 ? g.gpu : "" },
          { text: n === 0 ? g.model : "" },
          { text: duration(i.toMs - i.fromMs), right: true },
          { text: new Date(i.fromMs).toISOString() },
          { text: new Date(i.toMs).toISOString() },
          { text: `${i.kinds.join(", ")}: ${i.reasons[0] ?? ""}` },
        ]),
      ),
    )}`;
  }
  if (r.kind === "sales" && r.forSale.length > 0) {
    out += `\nGPUs for sale now\n${table(
      style,
      ["MODEL", "GPUS", "TFLOPS EACH", "PFLOPS"],
      r.forSale.map((m) => [
        { text: m.model || "(no inventory yet)" },
        { text: String(m.gpus), right: true },
        { text: m.denseFp16Tflops === null ? "–" : fixed(m.denseFp16Tflops, 1), right: true },
        { text: fixed(m.pflops, 3), right: true },
      ]),
    )}`;
  }
  if ((r.kind === "capacity" || r.kind === "sales") && r.unknownModels.length > 0)
    out += `\nModels without a capacity figure: ${r.unknownModels.join(", ")}\n`;
  return out;
}
