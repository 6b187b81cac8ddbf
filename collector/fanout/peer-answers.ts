// The shapes of the answers a collector asks its peers for (answer-shape.ts): what the merges of
// collector/merge read from each. A field added to a merge's reading belongs here too.
import { USE_KEYS } from "../reports/lease-lines.js";
import { emptyUsage } from "../usage/usage-sums.js";
import type { Shape } from "./answer-shape.js";

const numbers = (keys: readonly string[]): Record<string, Shape> =>
  Object.fromEntries(keys.map((k) => [k, "number" as const]));

/** UsageSums: integers, and the highest temperature (null when none was read). */
const USAGE: Record<string, Shape> = {
  ...numbers(Object.keys(emptyUsage()).filter((k) => k !== "maxTemperatureC")),
  maxTemperatureC: "number?",
};

const FLAG: Shape = {
  fields: {
    kind: "string",
    severity: "string",
    host: "string",
    gpuUuid: "string?",
    startMs: "number",
    endMs: "number?",
    updatedMs: "number",
  },
};

const GPU: Shape = {
  fields: { uuid: "string", host: "string", index: "number", state: "string", usage: "string" },
};

const HOST: Shape = {
  fields: { name: "string", status: "string", statusMs: "number?", lastSeenMs: "number" },
};

const RANGE = { fromMs: "number", toMs: "number" } as const;

const DOWN: Shape = { list: { fields: RANGE } };

export const PEER_ANSWERS = {
  gpus: { fields: { gpus: { list: GPU } } },
  hosts: { fields: { hosts: { list: HOST } } },
  flags: { fields: { flags: { list: FLAG } } },
  reportPart: {
    fields: {
      ...RANGE,
      gpus: {
        list: { fields: { uuid: "string", host: "string", site: "string", model: "string", ...USAGE } },
      },
    },
  },
  fleetPart: {
    fields: {
      ...RANGE,
      stretches: {
        list: {
          fields: {
            uuid: "string",
            host: "string",
            site: "string",
            model: "string",
            ...RANGE,
            periodMs: "number",
            ...USAGE,
          },
        },
      },
      flags: { list: FLAG },
    },
  },
  leaseParts: {
    fields: {
      ...RANGE,
      parts: {
        list: {
          fields: {
            lease: "string",
            tenant: "string",
            device: "string",
            gpu: "string",
            host: "string",
            ...RANGE,
            leasedMs: "number",
            downMs: "number",
            ...numbers(USE_KEYS),
            down: { ...DOWN, orNull: true },
            places: {
              list: { fields: { host: "string", ...RANGE, downMs: "number", ...numbers(USE_KEYS) } },
            },
          },
        },
      },
    },
  },
  tenantSummary: {
    fields: {
      utilization: {
        fields: {
          range: {
            fields: {
              ...numbers([
                "busyHours",
                "idleHours",
                "idleHeldHours",
                "unknownHours",
                "energyKwh",
                "energyIdleKwh",
              ]),
              meanUtilizationPct: "number?",
            },
          },
        },
      },
    },
  },
} as const satisfies Record<string, Shape>;
