// Issue 13 item 8 (ingest side): inventory values were stored unchecked (a 200,000-character model
// name, a slowdown temperature of -2,000,000,000 °C, a power limit of -1e30 W), and ingest accepted
// GPU UUIDs the API's GPU routes refuse. Real collector, embedded broker, real mqtt.js client,
// real HTTP API. The rule itself (shared/gpu-id.ts) gets a property test: every id ingest stores
// is one the API accepts.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuIdParams } from "../../collector/api/schemas.js";
import { gpuIdOf, isValidGpuUuid } from "../../shared/gpu-id.js";
import { isValidHostId, topicFor } from "../../shared/topics.js";
import { waitFor } from "../helpers/net.js";
import {
  batchOf,
  connectClient,
  type EmbeddedCollector,
  getJson,
  inventoryOf,
  rejected,
  startEmbeddedCollector,
} from "./attack-parts.js";
import { publishOutcome } from "./broker-harness.js";

const API_ID = new RegExp(gpuIdParams.properties.id.pattern);
const apiAccepts = (id: string) => id.length <= gpuIdParams.properties.id.maxLength && API_ID.test(id);

describe("one GPU id rule for ingest and the API", () => {
  it("every UUID ingest accepts, and every id it stores for a UUID-less GPU, is one the API accepts", () => {
    const idChars = fc.constantFrom(..."abcXYZ019.-_:/ %?#\u00e9\u0000".split(""));
    fc.assert(
      fc.property(fc.string({ unit: idChars, minLength: 1, maxLength: 140 }), (uuid) => {
        if (isValidGpuUuid(uuid)) expect(apiAccepts(uuid)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    const hostChars = fc.constantFrom(..."ab09.-_".split(""));
    fc.assert(
      fc.property(
        fc.string({ unit: hostChars, minLength: 1, maxLength: 128 }),
        fc.nat(1023),
        (host, index) => {
          if (!isValidHostId(host)) return;
          expect(apiAccepts(gpuIdOf(host, "", index))).toBe(true);
          expect(apiAccepts(`${host}:${index}`)).toBe(true);
          // The stored id of a UUID-less GPU is out of reach of every reported UUID.
          expect(isValidGpuUuid(gpuIdOf(host, "", index))).toBe(false);
        },
      ),
    );
  });
});

describe("ingest validates what the API serves", () => {
  let c: EmbeddedCollector;
  beforeAll(async () => {
    c = await startEmbeddedCollector();
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("refuses GPU UUIDs outside the shared rule; what it stores, the API answers for", async () => {
    const mqtt = await connectClient(c.url);
    try {
      for (const [seq, uuid] of ["GPU victim 0", "GPU-../../x", `GPU-${"9".repeat(200)}`].entries()) {
        // Content that will never be valid: payload format invalid (0x99), which the agent drops.
        expect(
          await publishOutcome(mqtt, topicFor("node-u", "frame"), batchOf("node-u", seq + 1, { [uuid]: 40 })),
        ).toEqual({ code: 0x99 });
      }
      expect(
        await publishOutcome(
          mqtt,
          topicFor("node-u", "frame"),
          batchOf("node-u", 10, { "GPU-a.b_c:d": 40, "": 41 }),
        ),
      ).toBe("acknowledged");
      await waitFor(() => rejected(c.running, "gpu_uuid_invalid") === 3, 5000, "gpu_uuid_invalid counted");
      expect(
        c.running.store
          .latest()
          .map((g) => g.uuid)
          .sort(),
      ).toEqual(["GPU-a.b_c:d", "node-u/gpu1"]);
      for (const g of c.running.store.latest()) {
        const answer = await getJson(c.running.httpPort, `/api/v1/gpus/${encodeURIComponent(g.uuid)}`);
        expect(answer, g.uuid).toMatchObject({ status: 200, body: { uuid: g.uuid, host: "node-u" } });
      }
    } finally {
      await mqtt.endAsync(true);
    }
  }, 30_000);

  it("refuses an inventory with a 200,000-character model; makes absurd temperatures and power limits absent", async () => {
    const mqtt = await connectClient(c.url);
    try {
      const uuid = "GPU-11111111-0000-4000-8000-000000000001";
      expect(
        await publishOutcome(
          mqtt,
          topicFor("node-i", "inventory"),
          inventoryOf("node-i", { [uuid]: "M".repeat(200_000) }),
        ),
      ).toEqual({ code: 0x97 });
      await waitFor(() => rejected(c.running, "string_too_long") === 1, 5000, "string_too_long counted");
      expect(c.running.store.latest().some((g) => g.uuid === uuid)).toBe(false);

      const absurd = {
        temperature_slowdown_celsius: -2_000_000_000,
        power_enforced_limit_watts: -1e30,
        temperature_shutdown_celsius: 92,
        power_max_limit_watts: 700,
      };
      expect(
        await publishOutcome(
          mqtt,
          topicFor("node-i", "inventory"),
          inventoryOf("node-i", { [uuid]: "NVIDIA H100 80GB HBM3" }, absurd),
        ),
      ).toBe("acknowledged");
      await waitFor(() => c.running.store.latest().some((g) => g.uuid === uuid), 5000, "the sane inventory");
      const info = JSON.parse(
        c.running.store.db
          .prepare("SELECT info FROM gpu_inventory ORDER BY id DESC LIMIT 1")
          .pluck()
          .get() as string,
      ) as Record<string, unknown>;
      expect(info).toMatchObject({
        name: "NVIDIA H100 80GB HBM3",
        temperature_shutdown_celsius: 92,
        power_max_limit_watts: 700,
      });
      expect(info).not.toHaveProperty("temperature_slowdown_celsius");
      expect(info).not.toHaveProperty("power_enforced_limit_watts");
      await waitFor(() => rejected(c.running, "value_out_of_range") === 2, 5000, "the two values counted");
    } finally {
      await mqtt.endAsync(true);
    }
  }, 30_000);
});
