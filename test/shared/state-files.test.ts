// The agent's state files (kernel-log position, saved GPU identities) are replaced whole and
// durably: the new content is fsynced before the rename, and the directory after it, so a power
// cut leaves the old file or the new one, never an empty or missing one. A power cut cannot be
// shown here: the fs calls are watched instead (node:fs is wrapped, each call logged in order).
import * as realFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
const openPaths = new Map<number, string>();
let failNextFsync = false;

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      const fd = fs.openSync(...args);
      openPaths.set(fd, String(args[0]));
      return fd;
    },
    closeSync: (fd: number) => {
      openPaths.delete(fd);
      fs.closeSync(fd);
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${openPaths.get(fd) ?? `fd ${fd}`}`);
      if (failNextFsync) {
        failNextFsync = false;
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      fs.fsyncSync(fd);
    },
    renameSync: (from: realFs.PathLike, to: realFs.PathLike) => {
      calls.push(`rename ${String(from)} ${String(to)}`);
      fs.renameSync(from, to);
    },
  };
});

const { savePosition, loadPosition } = await import("../../agent/sources/kernel-log/resume.js");
const { SavedGpus } = await import("../../agent/sources/nvidia-smi/gpu-identities.js");
const { replaceFileDurably } = await import("../../shared/replace-file.js");

let dir = "";
beforeEach(() => {
  dir = realFs.mkdtempSync(join(tmpdir(), "gputel-state-files-"));
  calls.length = 0;
  failNextFsync = false;
});
afterEach(() => realFs.rmSync(dir, { recursive: true, force: true }));

/** The fsyncs and renames of one replacement of `path`, in order. */
function durableReplace(path: string): string[] {
  return [`fsync ${path}.tmp`, `rename ${path}.tmp ${path}`, `fsync ${dir}`];
}

describe("state files are replaced durably", () => {
  it("the kernel-log position: the temp file synced before the rename, the directory after it", () => {
    const path = join(dir, "kernel-log.json");
    savePosition(path, { bootId: "b1", seq: 7 });
    expect(calls).toEqual(durableReplace(path));
    expect(loadPosition(path)).toEqual({ bootId: "b1", seq: 7 });
  });

  it("the saved GPU identities: the same", () => {
    const path = join(dir, "nvidia-smi-gpus.json");
    new SavedGpus(path).update([{ index: 0, uuid: "GPU-a", pciBusId: "00000000:34:00.0" }]);
    expect(calls).toEqual(durableReplace(path));
  });
});

describe("replaceFileDurably", () => {
  it("replaces an existing file by a rename (a new inode, never rewritten in place), 0600, no temp left", () => {
    const path = join(dir, "state.json");
    realFs.writeFileSync(path, "old\n");
    const before = realFs.statSync(path).ino;
    replaceFileDurably(path, "new\n");
    expect(realFs.readFileSync(path, "utf8")).toBe("new\n");
    expect(realFs.statSync(path).ino).not.toBe(before);
    expect(realFs.statSync(path).mode & 0o777).toBe(0o600);
    expect(realFs.readdirSync(dir)).toEqual(["state.json"]);
  });

  it("a write that cannot be synced throws and leaves the old file as it was", () => {
    const path = join(dir, "state.json");
    realFs.writeFileSync(path, "old\n");
    failNextFsync = true;
    expect(() => replaceFileDurably(path, "new\n")).toThrow(/EIO/);
    expect(realFs.readFileSync(path, "utf8")).toBe("old\n");
    expect(calls.filter((c) => c.startsWith("rename"))).toEqual([]);
  });
});
