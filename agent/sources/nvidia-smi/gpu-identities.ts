// The GPUs as the agent last read them (index, UUID, PCI bus id), kept in
// <state_directory>/nvidia-smi-gpus.json. A GPU that fell off the bus before the agent started
// (or restarted) is listed by `nvidia-smi -L` with its bus id alone; with this file it is still
// reported under its own UUID, not as a new `<host>/gpu<index>` beside the GPU the collector
// knows. Only the bus id matches a saved GPU: indexes can change across a reboot.
import { readFileSync } from "node:fs";
import { replaceFileDurably } from "../../../shared/replace-file.js";
import type { KnownGpu } from "./csv-stream.js";

const MAX_GPUS = 1024;

/** The saved GPUs that have a UUID and a bus id; none when the file is missing or unreadable. */
export function loadIdentities(path: string): KnownGpu[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return [];
  }
  const gpus = (data as { gpus?: unknown } | null)?.gpus;
  if (!Array.isArray(gpus)) return [];
  const out: KnownGpu[] = [];
  for (const g of gpus.slice(0, MAX_GPUS) as Record<string, unknown>[]) {
    const { index, uuid, pci_bus_id: bus } = g ?? {};
    if (!Number.isSafeInteger(index) || typeof uuid !== "string" || typeof bus !== "string") continue;
    if (uuid === "" || bus === "") continue;
    out.push({ index: index as number, uuid, pciBusId: bus });
  }
  return out;
}

/** The GPUs worth saving (a UUID and a bus id each), as the file holds them. */
export function identitiesText(gpus: readonly KnownGpu[]): string {
  const kept = gpus
    .filter((g) => g.uuid !== "" && (g.pciBusId ?? "") !== "")
    .map((g) => ({ index: g.index, uuid: g.uuid, pci_bus_id: g.pciBusId }));
  return `${JSON.stringify({ gpus: kept })}\n`;
}

/** The saved GPUs of one agent: read at start, merged with what a stream read, written when changed. */
export class SavedGpus {
  private saved: KnownGpu[];
  private text: string;

  constructor(private readonly path: string) {
    this.saved = loadIdentities(path);
    this.text = identitiesText(this.saved);
  }

  get gpus(): readonly KnownGpu[] {
    return this.saved;
  }

  /**
   * The GPUs read (those with a UUID and a bus id) replace the saved ones with the same UUID or bus
   * id; a GPU saved before and not read stays saved. Writes only on a change; throws when it cannot.
   */
  update(gpus: readonly KnownGpu[]): void {
    const read = gpus.filter((g) => g.uuid !== "" && g.pciBusId);
    const kept = this.saved.filter((s) => !read.some((g) => g.uuid === s.uuid || g.pciBusId === s.pciBusId));
    const all = [...read, ...kept].sort((a, b) => a.index - b.index);
    const text = identitiesText(all);
    if (text === this.text) return;
    // Whole and durably: a crash or power cut leaves the old list or the new.
    replaceFileDurably(this.path, text);
    this.saved = all;
    this.text = text;
  }
}
