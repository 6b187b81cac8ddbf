// Run by spool-full-fs.test.ts on a small tmpfs (test/helpers/tiny-fs.ts):
//   vite-node test/agent/spool/full-disk-child.ts -- <dir on the tmpfs>
// Fills the file system with spooled frames (beside a filler file), drains the backlog as PUBACKs
// would, frees the filler and writes again; prints one JSON line with what it saw.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Spool } from "../../../agent/spool/spool.js";
import { errorMessage } from "../../../shared/errors.js";
import { capturingLogger, frame } from "./helpers.js";

const dir = process.argv.slice(2).find((a) => a !== "--");
if (!dir) throw new Error("usage: full-disk-child.ts -- <dir>");
const path = join(dir, "spool.db");
const filler = join(dir, "filler");
writeFileSync(filler, Buffer.alloc(10 * 1024 * 1024));

let now = 0;
const { logger, lines } = capturingLogger();
const spool = Spool.open({ path, logger, now: () => now });
// One 4000-byte frame a page: deleting them all takes more WAL room than a full disk has left.
let appended = 0;
let appendError = "";
while (appendError === "" && appended < 100_000) {
  try {
    spool.append(frame(appended + 1, 4000));
    appended += 1;
  } catch (error) {
    appendError = errorMessage(error);
  }
}

spool.reconnected();
let ackError = "";
for (;;) {
  now += 60_000; // past the replay rate's wait
  const poll = spool.nextBacklog();
  if (poll.kind !== "batch") break;
  try {
    spool.ack(poll.entries.map((e) => e.id));
  } catch (error) {
    ackError = errorMessage(error);
    break;
  }
}
const afterDrain = spool.stats().pendingFrames;

rmSync(filler);
const id = spool.append(frame(appended + 1, 4000));
const reader = new Database(path, { readonly: true });
const inFile = (reader.prepare("SELECT id FROM frames").all() as { id: number }[]).map((r) => r.id);
reader.close();
spool.close();

const warnings = lines.filter((l) => l.code === "GPUTEL_E_SPOOL").map((l) => l.msg);
process.stdout.write(
  `${JSON.stringify({ appended, appendError, ackError, afterDrain, id, inFile, warnings })}\n`,
);
