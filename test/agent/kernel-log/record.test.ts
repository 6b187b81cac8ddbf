// What the kernel-log reader prints, one line → the driver's text and its position: journal JSON
// (sequence from __SEQNUM, or the cursor's i= on systemd before 254; MESSAGE as bytes when it is
// not UTF-8), raw /dev/kmsg records, plain text (no position); bus ids in every spelling.
import { describe, expect, it } from "vitest";
import { busKey } from "../../../agent/sources/kernel-log/health-event.js";
import { normaliseBootId, readRecord } from "../../../agent/sources/kernel-log/record.js";

const BOOT = "8c1f0a520d4e4b7f9a553f1e2d3c4b5a";
const TEXT = "NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.";

describe("kernel-log records", () => {
  it("journal JSON without __SEQNUM: the sequence is the cursor's i= (hex)", () => {
    const line = JSON.stringify({
      __CURSOR: `s=abc;i=3f2;b=${BOOT};m=1;t=2;x=3`,
      __REALTIME_TIMESTAMP: "1784016120000123",
      __MONOTONIC_TIMESTAMP: "240000000",
      _BOOT_ID: BOOT,
      MESSAGE: TEXT,
    });
    expect(readRecord(line)).toEqual({
      form: "journal",
      text: TEXT,
      bootId: "8c1f0a52-0d4e-4b7f-9a55-3f1e2d3c4b5a",
      seq: 0x3f2,
      realtimeMs: 1784016120000,
      monotonicUs: 240000000,
    });
  });

  it("journal MESSAGE as a byte array (not UTF-8 clean) is decoded", () => {
    const line = JSON.stringify({ __SEQNUM: "7", _BOOT_ID: BOOT, MESSAGE: [...Buffer.from(TEXT)] });
    expect(readRecord(line)).toMatchObject({ form: "journal", text: TEXT, seq: 7 });
  });

  it("raw /dev/kmsg records carry their sequence and monotonic time; other lines none", () => {
    expect(readRecord(`4,1203,219470994,-;${TEXT}`)).toMatchObject({
      form: "kmsg",
      seq: 1203,
      monotonicUs: 219470994,
      bootId: null,
    });
    expect(readRecord(`[  219.470994] ${TEXT}`)).toMatchObject({ form: "file", seq: null });
    // A JSON-looking line that is not a journal entry is plain text.
    expect(readRecord("{not json").form).toBe("file");
  });

  it("boot ids and bus ids: one spelling each", () => {
    expect(normaliseBootId("8C1F0A52-0D4E-4B7F-9A55-3F1E2D3C4B5A\n")).toBe(
      "8c1f0a52-0d4e-4b7f-9a55-3f1e2d3c4b5a",
    );
    expect(normaliseBootId("nope")).toBeNull();
    expect(busKey("00000000:18:00.0")).toBe("0000:18:00");
    expect(busKey("0000:18:00")).toBe("0000:18:00");
    expect(busKey("PCI:0000:AA:00")).toBe("0000:aa:00");
  });
});
