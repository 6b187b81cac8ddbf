// Regenerates shared/xid/catalogue.ts from test/fixtures/xid/xid_catalog_nvidia_via_gpud.tsv and
// shared/xid/nvlink5-decode.ts from test/fixtures/xid/xid_144-150_nvlink5_decode_nvidia_via_gpud.tsv:
//   npm run xid-catalogue            (write)
//   npm run xid-catalogue -- --check (fail when a checked-in table is stale)
// test/xid/catalogue.test.ts and test/xid/nvlink5-decode.test.ts do the same check in the test suite.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CATALOGUE_TSV, renderCatalogue } from "./xid-catalogue.js";
import { NVLINK5_DECODE_TSV, renderNvlink5Decode } from "./xid-nvlink5-decode.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const tables = [
  { target: "shared/xid/catalogue.ts", tsv: CATALOGUE_TSV, render: renderCatalogue },
  { target: "shared/xid/nvlink5-decode.ts", tsv: NVLINK5_DECODE_TSV, render: renderNvlink5Decode },
];
let stale = false;
for (const { target, tsv, render } of tables) {
  const path = join(root, target);
  const text = render(readFileSync(join(root, tsv), "utf8"));
  if (process.argv.includes("--check")) {
    if (readFileSync(path, "utf8") !== text) {
      console.error(`${target} is stale: run \`npm run xid-catalogue\` and commit it`);
      stale = true;
    }
  } else {
    writeFileSync(path, text);
    console.log(`${target} regenerated`);
  }
}
if (stale) process.exit(1);
