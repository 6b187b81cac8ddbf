// The spool on a really full file system (a small tmpfs: the WAL cannot grow either, which
// SQLite's max_page_count in spool-disk-full.test.ts does not reach). The PUBACK that drains the
// backlog must not throw: the publisher calls ack from mqtt.js's callback, where a throw ends the
// agent, which then resends the whole spool after its restart and fails the same way again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnTinyFs, tinyFsAvailable } from "../../helpers/tiny-fs.js";

const CHILD = join(process.cwd(), "test", "agent", "spool", "full-disk-child.ts");

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.runIf(tinyFsAvailable())("Spool on a full file system", () => {
  it("takes the PUBACKs that drain the backlog without throwing, warns, and deletes the frames once there is room", {
    timeout: 60_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "gputel-spool-fullfs-"));
    const result = await runOnTinyFs(dir, "24m", CHILD);
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(seen.appendError).toBe("Spool disk is full");
    expect(seen.appended).toBeGreaterThan(1100); // more than the 4 MiB after which a drained spool vacuums
    expect(seen.ackError).toBe("");
    expect(seen.afterDrain).toBe(0);
    expect(seen.warnings).toContain(
      "Could not delete the drained spool's acknowledged frames; they go with the next write",
    );
    // Room again: the next append deletes the acknowledged frames in its transaction.
    expect(seen.inFile).toEqual([seen.id]);
  });
});
