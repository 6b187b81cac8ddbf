// A /proc file read again and again through one descriptor kept open: each reading is one
// pread at offset 0 into a buffer allocated once (procfs regenerates the text on a read from the
// start), where readFileSync opens, stats, reads twice and closes every time: 16 system calls a
// frame for the four host files, now 4. Only the head of the file is read: the host readings are
// all in the first lines.
import { closeSync, openSync, readSync } from "node:fs";

export class ProcFile {
  private fd: number | undefined;
  private readonly buffer: Buffer;

  /** `headBytes`: how much of the file's start is read (the lines wanted must fit). */
  constructor(
    readonly path: string,
    headBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(headBytes);
  }

  /** The file's first `headBytes` as latin1 text; undefined when it cannot be read. */
  read(): string | undefined {
    try {
      return this.readOnce();
    } catch {
      // A descriptor gone bad (it should not on procfs): open the file again, once.
      this.close();
      try {
        return this.readOnce();
      } catch {
        this.close();
        return undefined;
      }
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Already closed; nothing holds it.
    }
  }

  private readOnce(): string {
    this.fd ??= openSync(this.path, "r");
    const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
    return this.buffer.toString("latin1", 0, length);
  }
}

const open = new Map<string, ProcFile>();

/** The one ProcFile of `path` in this process (opened on its first read, kept open). */
export function procFile(path: string, headBytes: number): ProcFile {
  let file = open.get(path);
  if (!file) {
    file = new ProcFile(path, headBytes);
    open.set(path, file);
  }
  return file;
}
