// Shared by the spool tests: temp directories, a capturing logger, frames of a given size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { SpoolFrame } from "../../../agent/spool/spool.js";
import { createLogger, type Logger } from "../../../shared/logger.js";

export interface TempDir {
  dir: string;
  path: string;
  remove(): void;
}

export function tempSpoolDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), "gputel-spool-"));
  return { dir, path: join(dir, "spool.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ name: "test" }, { level: "debug", destination }), lines };
}

/** A frame whose payload is `size` bytes, tagged with its seq in the first bytes (to check order). */
export function frame(seq: number, size = 600, bootId = "boot-a"): SpoolFrame {
  const payload = new Uint8Array(size);
  new DataView(payload.buffer).setUint32(0, seq);
  return { seq, bootId, timestampMs: 1_700_000_000_000 + seq * 1000, payload };
}

export function seqOf(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
}
