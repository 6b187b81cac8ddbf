// Constant memory: exporting 8 GPUs x 3 h at 1 s (about 2 M values, over 30 MB of text) holds
// about one slice. The live heap (after a forced GC, sampled every 8 chunks along the export)
// stays within a few MB of the heap before it, and does not climb from the first third of the
// export to the last: what was streamed is not kept.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { filledStore, runExport } from "../../bench/export.js";

const MB = 2 ** 20;

it("holds one slice, not the range, while exporting many GPUs x hours", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gputel-export-memory-"));
  try {
    const { store, gpus, fromMs, toMs } = filledStore(join(dir, "c.db"), 4, 2, 3 * 3600);
    const run = await runExport(store, gpus, { fromMs, toMs }, "vm-jsonl", 8);
    store.close();
    expect(run.bytes).toBeGreaterThan(24 * MB);
    expect(run.heapSamples.length).toBeGreaterThan(20);
    expect(run.heapRetainedMaxBytes).toBeLessThan(8 * MB);
    const third = Math.floor(run.heapSamples.length / 3);
    const early = Math.max(...run.heapSamples.slice(0, third));
    const late = Math.max(...run.heapSamples.slice(-third));
    expect(late - early).toBeLessThan(4 * MB);
    console.info(
      `export memory: ${(run.bytes / MB).toFixed(0)} MB streamed, live heap at most +${(run.heapRetainedMaxBytes / MB).toFixed(1)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
