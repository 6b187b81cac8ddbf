// Regenerates shared/xid/catalogue.ts from test/fixtures/xid/xid_catalog_nvidia_via_gpud.tsv:
//   npm run xid-catalogue            (write)
//   npm run xid-catalogue -- --check (fail when the checked-in table is stale)
// test/xid/catalogue.test.ts does the same check in the test suite.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CATALOGUE_TSV, renderCatalogue } from "./xid-catalogue.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const target = join(root, "shared/xid/catalogue.ts");
const text = renderCatalogue(readFileSync(join(root, CATALOGUE_TSV), "utf8"));
if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== text) {
    console.error("shared/xid/catalogue.ts is stale: run `npm run xid-catalogue` and commit it");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log("shared/xid/catalogue.ts regenerated");
}
