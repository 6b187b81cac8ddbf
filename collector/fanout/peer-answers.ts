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

const FLAG: TProperties = {
  kind: Type.String(),
  severity: Type.String(),
  host: Type.String(),
  gpuUuid: orNull(Type.String()),
  startMs: Type.Number(),
  endMs: orNull(Type.Number()),
  updatedMs: Type.Number(),
};

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

export const PEER_ANSWERS = {
  gpus: Type.Object({ gpus: list(GPU) }),
  hosts: Type.Object({ hosts: list(HOST) }),
  flags: Type.Object({ flags: list(FLAG) }),
  reportPart: Type.Object({ ...RANGE, gpus: list({ ...PLACE, ...USAGE }) }),
  fleetPart: Type.Object({
    ...RANGE,
    stretches: list({ ...PLACE, ...RANGE, periodMs: Type.Number(), ...USAGE }),
    flags: list(FLAG),
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
    }),
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
