// The checked-in Xid table (shared/xid/catalogue.ts) is what scripts/gen-xid-catalogue.ts makes
// of test/fixtures/xid/xid_catalog_nvidia_via_gpud.tsv, and it says what the catalogue says.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CATALOGUE_TSV, parseCatalogueTsv, renderCatalogue } from "../../scripts/xid-catalogue.js";
import { XID_CATALOGUE } from "../../shared/xid/catalogue.js";
import { XID_ACTIONS, xidEntry } from "../../shared/xid/xid.js";

const ROOT = new URL("../../", import.meta.url);
const tsv = readFileSync(new URL(CATALOGUE_TSV, ROOT), "utf8");

describe("Xid catalogue", () => {
  it("is not stale: regenerating from the TSV gives the checked-in file byte for byte", () => {
    const checkedIn = readFileSync(new URL("shared/xid/catalogue.ts", ROOT), "utf8");
    expect(renderCatalogue(tsv)).toBe(checkedIn);
  });

  it("names its source in the header", () => {
    const checkedIn = readFileSync(new URL("shared/xid/catalogue.ts", ROOT), "utf8");
    expect(checkedIn).toContain("docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html");
    expect(checkedIn).toContain("leptonai/gpud@4a8de33a3f02e207f39e9023d67125592d599731");
    expect(checkedIn).toContain(CATALOGUE_TSV);
  });

  it("holds codes 1-172 once each, every action from the enum", () => {
    expect(XID_CATALOGUE.map((e) => e.code)).toEqual(Array.from({ length: 172 }, (_, i) => i + 1));
    for (const e of XID_CATALOGUE) expect(XID_ACTIONS).toContain(e.action);
  });

  it("keeps NVIDIA's text and normalises the action", () => {
    expect(xidEntry(79)).toEqual({
      code: 79,
      mnemonic: "ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS",
      description: "GPU has fallen off the bus",
      action: "reboot",
      immediate: "RESTART_BM",
      investigatory: "CONTACT_SUPPORT",
      applicationLevel: false,
    });
    expect(xidEntry(64)).toMatchObject({ action: "reset-gpu", applicationLevel: false });
    expect(xidEntry(63)).toMatchObject({ action: "none", immediate: "IGNORE" });
    expect(xidEntry(48)).toMatchObject({ action: "investigate", immediate: "WORKFLOW_XID_48" });
    expect(xidEntry(154)).toMatchObject({ action: "recovery-action", immediate: "XID_154" });
    expect(xidEntry(1)).toMatchObject({ action: "contact-support" });
    expect(xidEntry(162)).toMatchObject({ action: "unknown", immediate: "" });
    expect(xidEntry(999)).toBeUndefined();
  });

  it("marks application-level Xids (13, 31, 43, 45 and the CHECK_APP/CUDA ones), not hardware ones", () => {
    for (const code of [13, 31, 43, 45, 11, 25, 32, 69, 80])
      expect(xidEntry(code)?.applicationLevel, `${code}`).toBe(true);
    for (const code of [48, 63, 64, 79, 94, 95, 119, 154])
      expect(xidEntry(code)?.applicationLevel, `${code}`).toBe(false);
  });

  it("refuses a TSV with other columns or an unmapped resolution bucket", () => {
    expect(() => parseCatalogueTsv("code\tname\n1\tx\n")).toThrow(/unexpected columns/);
    const header = tsv.split("\n")[0];
    expect(() => parseCatalogueTsv(`${header}\n7\tM\tD\tPRAY\t\tsrc\n`)).toThrow(
      /Xid 7: unknown immediate_resolution 'PRAY'/,
    );
  });
});
