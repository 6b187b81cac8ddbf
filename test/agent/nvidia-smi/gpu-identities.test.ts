// The saved GPUs (agent/sources/nvidia-smi/gpu-identities.ts): a real file in a temp directory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadIdentities, SavedGpus } from "../../../agent/sources/nvidia-smi/gpu-identities.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(): string {
  const dir = mkdtempSync(join(tmpdir(), "gputel-saved-gpus-"));
  dirs.push(dir);
  return join(dir, "nvidia-smi-gpus.json");
}

describe("saved GPU identities", () => {
  it("a missing, unreadable or malformed file means no saved GPUs; bad entries are skipped", () => {
    const path = file();
    expect(loadIdentities(path)).toEqual([]);
    for (const text of ["", "{", "null", "[]", '{"gpus": 3}']) {
      writeFileSync(path, text);
      expect(loadIdentities(path)).toEqual([]);
    }
    writeFileSync(
      path,
      JSON.stringify({
        gpus: [
          { index: 0, uuid: "GPU-a", pci_bus_id: "00000000:34:00.0" },
          { index: "1", uuid: "GPU-b", pci_bus_id: "00000000:35:00.0" },
          { index: 2, uuid: "", pci_bus_id: "00000000:36:00.0" },
          { index: 3, uuid: "GPU-d" },
          null,
          { index: 1.5, uuid: "GPU-e", pci_bus_id: "00000000:38:00.0" },
        ],
      }),
    );
    expect(loadIdentities(path)).toEqual([{ index: 0, uuid: "GPU-a", pciBusId: "00000000:34:00.0" }]);
  });

  it("merges what a stream read into what was saved, and writes only on a change", () => {
    const path = file();
    const saved = new SavedGpus(path);
    saved.update([
      { index: 0, uuid: "GPU-a", pciBusId: "00000000:34:00.0" },
      { index: 1, uuid: "GPU-b", pciBusId: "00000000:35:00.0" },
      { index: 2, uuid: "" }, // never read: nothing to keep
    ]);
    expect(new SavedGpus(path).gpus).toEqual([
      { index: 0, uuid: "GPU-a", pciBusId: "00000000:34:00.0" },
      { index: 1, uuid: "GPU-b", pciBusId: "00000000:35:00.0" },
    ]);
    // GPU-b is not read (lost), and a new GPU took GPU-a's bus: GPU-b stays, GPU-a goes.
    saved.update([{ index: 0, uuid: "GPU-c", pciBusId: "00000000:34:00.0" }]);
    expect(new SavedGpus(path).gpus.map((g) => g.uuid)).toEqual(["GPU-c", "GPU-b"]);
    // Nothing new: the file is not written again.
    writeFileSync(path, "left alone");
    saved.update([{ index: 0, uuid: "GPU-c", pciBusId: "00000000:34:00.0" }]);
    expect(readFileSync(path, "utf8")).toBe("left alone");
  });
});
