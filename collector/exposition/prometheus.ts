// Prometheus text exposition (format 0.0.4) of the fleet's latest GPU values, open flags and the
// collector's own health. Pure: snapshot in, text out. One block per family (HELP, TYPE, then
// its samples), no duplicate series, absent values left out (never 0), empty families omitted.

import { exposedValue, METRICS } from "../../shared/metrics.js";
import { exportedAgentLabels } from "../../shared/prom-labels.js";
import { XID_ACTIONS, xidEntry } from "../../shared/xid/xid.js";
import type { GpuView, MetricsSnapshot } from "../contract/api-contract.js";

type Labels = Record<string, string>;
type Sample = { suffix?: string; labels: Labels; value: number };

class Exposition {
  private readonly out: string[] = [];

  family(
    name: string,
    type: "gauge" | "counter" | "histogram",
    help: string,
    samples: readonly Sample[],
  ): void {
    if (samples.length === 0) return;
    this.out.push(
      `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
    const seen = new Set<string>();
    for (const s of samples) {
      const line = `${name}${s.suffix ?? ""}${formatLabels(s.labels)}`;
      if (seen.has(line)) continue;
      seen.add(line);
      this.out.push(`${line} ${formatValue(s.value)}`);
    }
  }

  text(): string {
    return this.out.length > 0 ? `${this.out.join("\n")}\n` : "";
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label name Prometheus accepts: [a-zA-Z_][a-zA-Z0-9_]*. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  // Scaling by factors like 0.01 leaves float noise (612.3400000000001): 15 digits are exact enough.
  return String(Number(v.toPrecision(15)));
}

/** Identity labels of a GPU series: host, gpu index, uuid, model, site, then label_<agent label> (bounded: shared/prom-labels.ts). */
export function gpuLabels(g: GpuView): Labels {
  const labels: Labels = { host: g.host, gpu: String(g.index), uuid: g.uuid, model: g.model, site: g.site };
  for (const [name, value] of exportedAgentLabels(g.labels)) labels[name] = value;
  return labels;
}

export function renderMetrics(snap: MetricsSnapshot, nowMs: number): string {
  const x = new Exposition();
  const idLabels = snap.gpus.map((g) => [g, gpuLabels(g)] as const);
  for (const def of METRICS) {
    const samples: Sample[] = [];
    for (const [g, labels] of idLabels) {
      const v = g.values[def.key];
      if (v === undefined || v === null) continue;
      // The stored integer (the reading times scale) in the Prometheus unit, as remote_write sends it.
      samples.push({ labels, value: exposedValue(def, Math.round(v * def.scale)) });
    }
    x.family(def.prom.name, def.prom.type, def.prom.help, samples);
  }
  const doubtful = new Set(
    snap.openFlags
      .filter((f) => f.gpuUuid === null && (f.kind === "stale" || f.kind === "offline"))
      .map((f) => f.host),
  );
  x.family(
    "gputel_gpu_up",
    "gauge",
    "1 when the GPU's latest sample was read fine (state ok) and its host is reporting; 0 otherwise.",
    idLabels.map(([g, labels]) => ({ labels, value: g.state === "ok" && !doubtful.has(g.host) ? 1 : 0 })),
  );
  x.family(
    "gputel_gpu_state",
    "gauge",
    "The state of the GPU's latest sample (ok, timeout, lost, error, unspecified, unknown), as a label with value 1.",
    idLabels.map(([g, labels]) => ({ labels: { ...labels, state: g.state }, value: 1 })),
  );
  x.family(
    "gputel_gpu_last_sample_timestamp_seconds",
    "gauge",
    "Agent timestamp of the GPU's latest stored sample.",
    idLabels.flatMap(([g, labels]) =>
      g.timestampMs !== null ? [{ labels, value: g.timestampMs / 1000 }] : [],
    ),
  );
  x.family(
    "gputel_flag_open",
    "gauge",
    "1 for every open flag (idle, idle-held, overheat, throttled, stale, offline, lost, error, gpu-claim-conflict, xid, reset-required, pcie-degraded, nvlink-degraded).",
    snap.openFlags.map((f) => ({
      labels: {
        kind: f.kind,
        host: f.host,
        gpu: f.gpuIndex === null ? "" : String(f.gpuIndex),
        uuid: f.gpuUuid ?? "",
        severity: f.severity,
      },
      value: 1,
    })),
  );
  health(x, snap, nowMs);
  agentSources(x, snap);
  xidEvents(x, snap);
  leases(x, snap);
  deliveries(x, snap);
  maintenance(x, snap);
  return x.text();
}

/** The collector's own periodic maintenance (collector/maintenance.ts), since it started. */
function maintenance(x: Exposition, snap: MetricsSnapshot): void {
  const m = snap.maintenance;
  if (!m) return;
  x.family(
    "gputel_collector_maintenance_skipped_total",
    "counter",
    "Maintenance rounds skipped because another process held the database's write lock, by task (flags: stale hosts and rule timers; retention: sealing, rollups, pruning); the next round retries.",
    Object.entries(m.skippedBusy).map(([task, value]) => ({ labels: { task }, value })),
  );
}

/**
 * Alert notifications (by receiver: webhook, alertmanager) and remote_write, since the collector
 * started: what got out, what failed and is being retried, what was given up, what waits.
 */
function deliveries(x: Exposition, snap: MetricsSnapshot): void {
  const alerts = snap.deliveries?.alerts ?? [];
  const byReceiver = (value: (a: (typeof alerts)[number]) => number) =>
    alerts.map((a) => ({ labels: { receiver: a.receiver }, value: value(a) }));
  x.family(
    "gputel_alert_notifications_sent_total",
    "counter",
    "Alert notification requests the receiver accepted (a 2xx answer).",
    byReceiver((a) => a.sent),
  );
  x.family(
    "gputel_alert_notifications_errors_total",
    "counter",
    "Alert notification attempts that failed (no answer, timeout or a non-2xx answer); each is retried with backoff.",
    byReceiver((a) => a.failedAttempts),
  );
  x.family(
    "gputel_alert_notifications_dropped_total",
    "counter",
    "Alert notifications dropped unsent because the receiver's queue was full (oldest first).",
    byReceiver((a) => a.dropped),
  );
  x.family(
    "gputel_alert_notifications_queue_length",
    "gauge",
    "Alert notifications waiting for the receiver, the one being retried included.",
    byReceiver((a) => a.queued),
  );
  const rw = snap.deliveries?.remoteWrite;
  if (!rw) return;
  const counter = (name: string, help: string, value: number) =>
    x.family(`gputel_remote_write_${name}_total`, "counter", help, [{ labels: {}, value }]);
  counter("samples_sent", "Samples the remote_write receiver accepted.", rw.samplesSent);
  counter(
    "samples_dropped",
    "Samples in batches the remote_write receiver refused for good (a 4xx other than 429): not sent again.",
    rw.samplesDropped,
  );
  counter("batches_sent", "remote_write requests the receiver accepted.", rw.batchesSent);
  counter("batches_dropped", "remote_write requests refused for good and dropped.", rw.batchesDropped);
  counter(
    "retries",
    "remote_write requests that failed (no answer, 5xx or 429) and were retried with backoff.",
    rw.retries,
  );
  counter(
    "rows_skipped",
    "Store write batches remote_write skipped unsent because its queue passed remote_write.max_pending_rows.",
    rw.rowsSkipped,
  );
  x.family(
    "gputel_remote_write_pending_rows",
    "gauge",
    "Store write batches committed but not yet sent by remote_write.",
    [{ labels: {}, value: rw.pendingRows }],
  );
}

/**
 * Xid events stored: over the fleet by code and action, and per GPU. Bounded label sets: codes
 * NVIDIA's catalogue lists (a code it does not list is counted under "other"), the catalogue's
 * closed set of actions, and per GPU only the GPUs that had events.
 */
function xidEvents(x: Exposition, snap: MetricsSnapshot): void {
  const fleet = new Map<string, Sample>();
  const perGpu = new Map<string, Sample>();
  const add = (into: Map<string, Sample>, labels: Labels, count: number) => {
    const key = JSON.stringify(labels);
    const entry = into.get(key) ?? { labels, value: 0 };
    entry.value += count;
    into.set(key, entry);
  };
  for (const row of snap.xidEvents ?? []) {
    const code = xidEntry(row.code) ? String(row.code) : "other";
    const action = (XID_ACTIONS as readonly string[]).includes(row.action) ? row.action : "unknown";
    add(fleet, { code, action }, row.count);
    add(
      perGpu,
      {
        host: row.host,
        gpu: row.gpuIndex === null ? "" : String(row.gpuIndex),
        uuid: row.gpuUuid ?? "",
        code,
        action,
        workload_fault: row.applicationLevel ? "true" : "false",
      },
      row.count,
    );
  }
  x.family(
    "gputel_xid_events_total",
    "counter",
    "Xid events from the agents' kernel logs, stored once each, by Xid code and NVIDIA's catalogue action.",
    [...fleet.values()],
  );
  x.family(
    "gputel_gpu_xid_events_total",
    "counter",
    "Xid events per GPU (uuid empty: a bus id the host's inventory did not know), by code and action; workload_fault is true for codes NVIDIA lays at the application's door (13, 31, 43, 45 …). Counts every event stored, those retention has since pruned included.",
    [...perGpu.values()],
  );
}

/**
 * Leases in force: one info series per leased GPU (whole-GPU leases; MIG leases in their own
 * family so that a join on uuid finds at most one tenant per GPU), and each lease's terms.
 */
function leases(x: Exposition, snap: MetricsSnapshot): void {
  const where = new Map(snap.gpus.map((g) => [g.uuid, g]));
  const place = (uuid: string) => {
    const g = where.get(uuid);
    return { host: g?.host ?? "", gpu: g === undefined ? "" : String(g.index), uuid };
  };
  const rows = snap.leases ?? [];
  x.family(
    "gputel_gpu_lease_info",
    "gauge",
    "1 for each GPU leased as a whole right now, with its tenant and lease id (join on uuid to group GPU metrics by tenant).",
    rows
      .filter((l) => l.device === l.gpu)
      .map((l) => ({ labels: { ...place(l.gpu), tenant: l.tenant, lease: l.id }, value: 1 })),
  );
  x.family(
    "gputel_mig_device_lease_info",
    "gauge",
    "1 for each MIG device leased right now: its GPU (uuid), the MIG device, tenant and lease id.",
    rows
      .filter((l) => l.device !== l.gpu)
      .map((l) => ({
        labels: { ...place(l.gpu), mig_device: l.device, tenant: l.tenant, lease: l.id },
        value: 1,
      })),
  );
  x.family(
    "gputel_lease_price_per_gpu_hour",
    "gauge",
    "The price per GPU-hour of each lease in force that has one, in its currency.",
    rows.flatMap((l) =>
      l.priceMicros === null || l.currency === null
        ? []
        : [{ labels: { tenant: l.tenant, lease: l.id, currency: l.currency }, value: l.priceMicros / 1e6 }],
    ),
  );
  x.family(
    "gputel_lease_committed_availability_ratio",
    "gauge",
    "The availability each lease in force commits to (0.995 for 99.5 %), where it commits one.",
    rows.flatMap((l) =>
      l.availabilityMilli === null
        ? []
        : [{ labels: { tenant: l.tenant, lease: l.id }, value: l.availabilityMilli / 100_000 }],
    ),
  );
}

/** The agents' own sources (supervisor counters from their statuses), by host and source. */
function agentSources(x: Exposition, snap: MetricsSnapshot): void {
  const rows = snap.agentSources ?? [];
  const of = (value: (r: (typeof rows)[number]) => number) =>
    rows.map((r) => ({ labels: { host: r.host, source: r.source }, value: value(r) }));
  const counter = (name: string, help: string, value: (r: (typeof rows)[number]) => number) =>
    x.family(`gputel_agent_source_${name}_total`, "counter", help, of(value));
  counter(
    "restarts",
    "Relaunches of the agent's source after a failure, since the agent started.",
    (r) => r.restarts,
  );
  counter(
    "timeouts",
    "Children of the agent's source killed for silence or for running past their timeout.",
    (r) => r.timeouts,
  );
  counter("exits", "Long-lived children of the agent's source that exited by themselves.", (r) => r.exits);
  counter(
    "stuck_children",
    "Children of the agent's source that did not exit after SIGKILL (uninterruptible sleep).",
    (r) => r.stuckChildren,
  );
  counter(
    "start_failures",
    "Failed start-ups of the agent's source (binary missing, driver not loaded, no device).",
    (r) => r.startFailures,
  );
  x.family(
    "gputel_agent_source_stuck",
    "gauge",
    "1 while a child of the agent's source is stuck (and blocks another of its kind).",
    of((r) => (r.stuck ? 1 : 0)),
  );
  x.family(
    "gputel_agent_source_last_error_timestamp_seconds",
    "gauge",
    "When the agent's source last failed (agent clock); absent when it has not.",
    of((r) => r.lastErrorMs / 1000).filter((_, i) => (rows[i]?.lastErrorMs ?? 0) > 0),
  );
}

function health(x: Exposition, snap: MetricsSnapshot, nowMs: number): void {
  x.family("gputel_gpus_known", "gauge", "GPUs the collector knows.", [
    { labels: {}, value: snap.gpus.length },
  ]);
  x.family("gputel_hosts_known", "gauge", "Hosts the collector knows.", [
    { labels: {}, value: snap.hosts.length },
  ]);
  x.family(
    "gputel_store_database_size_bytes",
    "gauge",
    "Size of the collector's SQLite file (pages in use and free).",
    [{ labels: {}, value: snap.databaseBytes }],
  );
  if (snap.newestSampleMs !== null)
    x.family(
      "gputel_ingest_newest_sample_age_seconds",
      "gauge",
      "Seconds since the newest stored GPU sample was taken (agent clock): how far behind ingest is.",
      [{ labels: {}, value: Math.max(0, nowMs - snap.newestSampleMs) / 1000 }],
    );
  const i = snap.ingest;
  if (!i) return;
  const counter = (name: string, help: string, value: number) =>
    x.family(`gputel_ingest_${name}_total`, "counter", help, [{ labels: {}, value }]);
  counter("messages", "MQTT messages received by ingest since the collector started.", i.messages);
  counter("frames_stored", "Frames committed to the store.", i.framesStored);
  counter(
    "frames_duplicate",
    "Frames received again and stored once (replays, redeliveries).",
    i.framesDuplicate,
  );
  counter("commits", "Store transactions committed.", i.commits);
  counter(
    "store_failures",
    "Batches the store failed to commit (acknowledgements held back).",
    i.storeFailures,
  );
  counter("overloaded", "Messages refused because the ingest queue was full.", i.overloaded);
  x.family(
    "gputel_ingest_rejected_total",
    "counter",
    "Messages rejected by ingest, by reason.",
    Object.entries(i.rejects).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  x.family(
    "gputel_agent_spool_frames_dropped_total",
    "counter",
    "Frames an agent's spool dropped because its bound was reached, over the spool's life, as the host's newest frame reports.",
    Object.entries(i.agentSpoolDropped ?? {}).map(([host, value]) => ({ labels: { host }, value })),
  );
  x.family("gputel_ingest_queue_depth", "gauge", "Messages waiting for a commit.", [
    { labels: {}, value: i.queueDepth },
  ]);
  const h = i.commitLatency;
  if (h)
    x.family(
      "gputel_ingest_commit_latency_seconds",
      "histogram",
      "Time from a message's arrival to its commit.",
      [
        ...h.buckets.map((b) => ({
          suffix: "_bucket",
          labels: { le: Number.isFinite(b.le) ? String(b.le / 1000) : "+Inf" },
          value: b.count,
        })),
        { suffix: "_sum", labels: {}, value: h.sumMs / 1000 },
        { suffix: "_count", labels: {}, value: h.count },
      ],
    );
}
