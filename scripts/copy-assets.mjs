#!/usr/bin/env node
// tsc emits only what it compiles: copy the generated protobuf code and static assets into dist/.
import { cpSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const copies = [
  ["proto/generated/gputel.js", "dist/proto/generated/gputel.js"],
  ["collector/dashboard/static", "dist/collector/dashboard/static"],
  ["collector/migrations", "dist/collector/migrations"],
];
for (const [from, to] of copies) {
  if (existsSync(join(root, from))) cpSync(join(root, from), join(root, to), { recursive: true });
}
