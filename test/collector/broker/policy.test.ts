import { describe, expect, it } from "vitest";
import { REASON, refusalCode } from "../../../collector/broker/policy.js";
import { REJECT_REASONS } from "../../../collector/ingest/reasons.js";

// MQTT 5 §3.4.2.1: the only failure codes a PUBACK may carry (mqtt.js stops reading on others).
const PUBACK_FAILURES = new Set([0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);

describe("refusalCode", () => {
  it("answers every reject reason with a code a PUBACK may carry", () => {
    for (const reason of REJECT_REASONS) expect(PUBACK_FAILURES.has(refusalCode(reason)), reason).toBe(true);
  });

  it("answers the collector's limits with quota exceeded, so the agent keeps and retries what it sent", () => {
    const limits = REJECT_REASONS.filter((r) =>
      /_limit$|^rate_limited$|^batch_too_large$|^string_too_long$/.test(r),
    );
    expect(limits.length).toBeGreaterThanOrEqual(8);
    for (const reason of limits) expect(refusalCode(reason), reason).toBe(REASON.QUOTA_EXCEEDED);
  });

  it("answers a claim on another host's GPU and identity problems with not authorized", () => {
    for (const reason of ["gpu_claimed_by_other_host", "host_mismatch", "username_mismatch"] as const)
      expect(refusalCode(reason)).toBe(REASON.NOT_AUTHORIZED);
  });

  it("answers content that will never be valid with payload format invalid (the agent drops it)", () => {
    for (const reason of [
      "decode_error",
      "value_out_of_range",
      "gpu_uuid_invalid",
      "payload_too_large",
    ] as const)
      expect(refusalCode(reason)).toBe(REASON.PAYLOAD_FORMAT_INVALID);
  });
});
