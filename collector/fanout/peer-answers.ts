// The shapes of the answers a collector asks its peers for (answer-shape.ts): what the merges of
// collector/merge read from each. A field added to a merge's reading belongs here too.
import { type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { USE_KEYS } from "../reports/lease-lines.js";
import { emptyUsage } from "../usage/usage-sums.js";

const orNull = (t: TSchema) => Type.Union([t, Type.Null()]);
const list = (fields: TProperties) => Type.Array(Type.Object(fields));
const numbers = (keys: readonly string[]): TProperties =>
  Object.fromEntries(keys.map((k) => [k, Type.Number()]));

/** UsageSums: integers, and the highest temperature (null when none was read). */
const USAGE: TProperties = {
  ...numbers(Object.keys(emptyUsage()).filter((k) => k !== "maxTemperatureC")),
  maxTemperatureC: orNull(Type.Number()),
};

/** A flag episode as mergeFlagLists reads it. */
const EPISODE: TProperties = {
  kind: Type.String(),
  host: Type.String(),
  gpuUuid: orNull(Type.String()),
  startMs: Type.Number(),
  endMs: orNull(Type.Number()),
  updatedMs: Type.Number(),
};
const FLAG: TProperties = { ...EPISODE, severity: Type.String() };

const GPU: TProperties = {
  uuid: Type.String(),
  host: Type.String(),
  index: Type.Number(),
  state: Type.String(),
  usage: Type.String(),
};

const HOST: TProperties = {
  name: Type.String(),
  status: Type.String(),
  statusMs: orNull(Type.Number()),
  lastSeenMs: Type.Number(),
};

const RANGE: TProperties = { fromMs: Type.Number(), toMs: Type.Number() };
const PLACE: TProperties = {
  uuid: Type.String(),
  host: Type.String(),
  site: Type.String(),
  model: Type.String(),
};

/** A process session's identity and sightings (merge-lists.ts, mergeProcessLists). */
const SESSION: TProperties = {
  host: Type.String(),
  gpuUuid: Type.String(),
  migUuid: orNull(Type.String()),
  pid: Type.Number(),
  startMs: orNull(Type.Number()),
  firstSeenMs: Type.Number(),
  lastSeenMs: Type.Number(),
  stayStartMs: Type.Optional(Type.Number()),
};
const OPTIONAL_TEXT = ["user", "jobId", "podUid", "containerId"] as const;

/** Set by a peer holding no share of the GPU asked for (fan-out.ts, NOT_HELD). */
const HELD: TProperties = { gpuHeld: Type.Optional(Type.Literal(false)) };
const NOT_HELD_ALONE: TProperties = { gpuHeld: Type.Literal(false) };

/** A kernel-log event's key, by which merges count it once and order it (event-cursor.ts). */
const EVENT_KEY: TProperties = {
  host: Type.String(),
  kernelBootId: Type.String(),
  kernelSeq: Type.Number(),
  timeMs: Type.Number(),
};

/** One GPU, as its series and health timeline name it. */
const ONE_GPU: TProperties = { uuid: Type.String(), host: Type.String(), index: Type.Number() };
const VALUES = Type.Array(orNull(Type.Number()));

const PROCESSES = list({
  ...SESSION,
  memoryMib: orNull(Type.Number()),
  peakMemoryMib: orNull(Type.Number()),
});

export const PEER_ANSWERS = {
  gpus: Type.Object({ gpus: list(GPU) }),
  /** One GPU's view, or NOT_HELD from a peer without it. */
  gpu: Type.Union([Type.Object({ ...GPU, timestampMs: orNull(Type.Number()) }), Type.Object(NOT_HELD_ALONE)]),
  hosts: Type.Object({ hosts: list(HOST) }),
  /** A lease list (/api/v1/leases): whose leases a peer holds. */
  leases: Type.Object({ leases: list({ tenant: Type.String() }), truncated: Type.Boolean() }),
  /** Every lease a peer holds in a range (LEASE_TERMS_PATH), as the tenants view reads them. */
  leaseTerms: Type.Object({
    leases: list({
      id: Type.String(),
      device: Type.String(),
      gpu: Type.String(),
      tenant: Type.String(),
      startMs: Type.Number(),
      endMs: orNull(Type.Number()),
      availabilityMilli: orNull(Type.Number()),
    }),
  }),
  flags: Type.Object({ flags: list(FLAG), ...HELD }),
  openFlags: Type.Object({ flags: list(EPISODE) }),
  /** Every GPU, as much as the summary reads (SummaryGpu). */
  summaryGpus: Type.Object({
    gpus: list({
      ...GPU,
      timestampMs: orNull(Type.Number()),
      values: Type.Object({ utilization_gpu_pct: Type.Optional(Type.Number()) }),
    }),
  }),
  /** A forwarded acknowledgement: the peer's copy as it left it, or null (it holds none). */
  ackCopy: Type.Object({ copy: orNull(Type.Object(EPISODE)) }),
  /** Every GPU, as much as the wall's cells draw (CellGpu). */
  cellGpus: Type.Object({
    gpus: list({
      ...GPU,
      model: Type.String(),
      site: Type.String(),
      labels: Type.Record(Type.String(), Type.String()),
      timestampMs: orNull(Type.Number()),
      values: Type.Object({
        utilization_gpu_pct: Type.Optional(Type.Number()),
        temperature_gpu_celsius: Type.Optional(Type.Number()),
      }),
      flags: list({ kind: Type.String() }),
    }),
  }),
  reportPart: Type.Object({ ...RANGE, gpus: list({ ...PLACE, ...USAGE }) }),
  fleetPart: Type.Object({
    ...RANGE,
    stretches: list({ ...PLACE, ...RANGE, periodMs: Type.Number(), ...USAGE }),
    flags: list(FLAG),
  }),
  healthPart: Type.Object({
    ...RANGE,
    nowMs: Type.Number(),
    groups: list({
      host: Type.String(),
      gpuUuid: orNull(Type.String()),
      code: Type.Number(),
      action: Type.String(),
      applicationLevel: Type.Boolean(),
      count: Type.Number(),
      firstMs: Type.Number(),
      lastMs: Type.Number(),
      keys: orNull(list({ boot: Type.String(), seqs: Type.Array(Type.Number()) })),
    }),
    flags: list({ ...EPISODE, values: Type.Record(Type.String(), Type.Unknown()) }),
    models: Type.Record(Type.String(), Type.String()),
    leases: list({
      id: Type.String(),
      gpu: Type.String(),
      tenant: Type.String(),
      startMs: Type.Number(),
      endMs: orNull(Type.Number()),
    }),
    leasesCut: Type.Optional(Type.Literal(true)),
  }),
  leaseParts: Type.Object({
    ...RANGE,
    parts: list({
      lease: Type.String(),
      tenant: Type.String(),
      device: Type.String(),
      gpu: Type.String(),
      host: Type.String(),
      ...RANGE,
      leasedMs: Type.Number(),
      downMs: Type.Number(),
      ...numbers(USE_KEYS),
      down: orNull(list(RANGE)),
      places: list({ host: Type.String(), ...RANGE, downMs: Type.Number(), ...numbers(USE_KEYS) }),
      // Absent from a collector before 2026-12-07: the merge then adds the parts' flag counts.
      flagEpisodes: Type.Optional(
        orNull(
          list({
            kind: Type.String(),
            host: Type.String(),
            startMs: Type.Number(),
            endMs: orNull(Type.Number()),
            values: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          }),
        ),
      ),
    }),
  }),
  /** Kernel-log events (mergeEventAnswers); an empty list with NOT_HELD for `gpu=` a peer does not show. */
  events: Type.Object({
    generatedMs: Type.Number(),
    limit: Type.Number(),
    next: orNull(Type.String()),
    events: list(EVENT_KEY),
    ...HELD,
  }),
  processes: Type.Object({
    processes: PROCESSES,
    // Absent from a collector before 2026-12-08 (its list said nothing of being cut).
    truncated: Type.Optional(Type.Boolean()),
    // Absent from a collector before 2026-12-07 and from a history list.
    silentHosts: Type.Optional(Type.Array(Type.String())),
    // Absent from a collector before 2026-12-08, from a history list and from a direct request.
    reportingHosts: Type.Optional(Type.Array(Type.String())),
    ...HELD,
  }),
  /** One GPU's sessions (gpus/:id/processes), or an empty list with NOT_HELD from a peer without it. */
  gpuProcesses: Type.Union([
    Type.Object({
      gpu: Type.Object({ uuid: Type.String(), host: Type.String(), index: Type.Number() }),
      processes: PROCESSES,
      truncated: Type.Optional(Type.Boolean()),
      silentHosts: Type.Optional(Type.Array(Type.String())),
      reportingHosts: Type.Optional(Type.Array(Type.String())),
    }),
    Type.Object({ processes: PROCESSES, ...NOT_HELD_ALONE }),
  ]),
  /** One GPU's series (mergeSeries reads every field), or NOT_HELD from a peer without it. */
  series: Type.Union([
    Type.Object({
      ...ONE_GPU,
      ...RANGE,
      tier: Type.String(),
      stepMs: Type.Number(),
      t: Type.Array(Type.Number()),
      metrics: Type.Record(
        Type.String(),
        // count: absent from a collector before 2026-12-08.
        Type.Object({
          min: VALUES,
          max: VALUES,
          avg: VALUES,
          count: Type.Optional(Type.Array(Type.Number())),
        }),
      ),
      slowdownTemperatureC: orNull(Type.Number()),
    }),
    Type.Object(NOT_HELD_ALONE),
  ]),
  /** One GPU's health timeline (mergeHealthTimelines), or NOT_HELD from a peer without it. */
  health: Type.Union([
    Type.Object({
      ...ONE_GPU,
      ...RANGE,
      generatedMs: Type.Number(),
      stays: Type.Optional(list(RANGE)),
      events: list(EVENT_KEY),
      flags: list({ ...EPISODE, id: Type.Number() }),
      acknowledgements: list({ flagId: Type.Number(), atMs: Type.Number(), note: Type.String() }),
      downtime: list({ ...RANGE, kinds: Type.Array(Type.String()) }),
      truncated: Type.Boolean(),
    }),
    Type.Object(NOT_HELD_ALONE),
  ]),
  processPart: Type.Object({
    ...RANGE,
    sessions: list({
      ...SESSION,
      ...Object.fromEntries(OPTIONAL_TEXT.map((k) => [k, orNull(Type.String())])),
    }),
    idle: list(EPISODE),
    truncated: Type.Optional(Type.Boolean()),
  }),
  tenantSummary: Type.Object({
    utilization: Type.Object({
      range: Type.Object({
        ...numbers(["busyHours", "idleHours", "idleHeldHours", "unknownHours", "energyKwh", "energyIdleKwh"]),
        meanUtilizationPct: orNull(Type.Number()),
      }),
    }),
  }),
} as const satisfies Record<string, TSchema>;
