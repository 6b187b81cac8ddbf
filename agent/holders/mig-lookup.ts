// The MIG device of each compute process, for the processes source. Only GPUs in MIG mode cost
// anything: for a process not seen before on one of them, one `nvidia-smi -L` (MIG UUIDs) and
// one `nvidia-smi -q -x -i <those GPUs>` (each process's GPU and compute instance) are run, and
// the answer is kept for that process life (a process cannot move between MIG devices). A host
// without MIG runs nothing here. A failed query is retried after `retryMs`; meanwhile its
// processes carry the failure as the reason. So is a process the outputs did not place for a
// passing reason (gone from -q -x, or -L and -q -x disagreeing while MIG was being changed).
import type { Logger } from "../../shared/logger.js";
import { AbsentReason } from "../../shared/proto.js";
import type { ComputeAppRow } from "../sources/nvidia-smi/compute-apps.js";
import { firstErrorLine, outputLines } from "../sources/nvidia-smi/error-lines.js";
import { parseListGpus } from "../sources/nvidia-smi/mig-text.js";
import { readXmlHolders } from "../sources/nvidia-smi/xml-holders.js";
import { convertSmiXml } from "../sources/nvidia-smi/xml-query.js";
import type { OneShotResult } from "../sources/supervisor/child-process.js";
import { type MigPlace, migPlaceKey, migPlaces } from "./mig-places.js";

export interface MigLookupOptions {
  /** nvidia-smi's argv. */
  command: readonly string[];
  timeoutMs: number;
  /** Runs one command (the processes source's own one-shot lane). */
  run: (argv: string[], timeoutMs: number) => Promise<OneShotResult>;
  /** How long after a failed query the next one may run. */
  retryMs: number;
  now: () => number;
  logger: Logger;
}

export interface LookupGpu {
  index: number;
  uuid: string;
  migMode?: boolean;
}

export class MigLookup {
  /** By migPlaceKey + start: one process life's place. */
  private readonly known = new Map<string, MigPlace>();
  /** Lives the last lookup could not place for a passing reason: asked again after retryMs. */
  private readonly unplaced = new Map<string, { place: MigPlace; atMs: number }>();
  private failure: { atMs: number; why: string } | undefined;
  private failures = 0;

  constructor(private readonly options: MigLookupOptions) {}

  /**
   * The place of every row on a GPU in MIG mode, by migPlaceKey. `startOf` gives a pid's start
   * (from /proc) so that a reused pid is looked up again.
   */
  async places(
    rows: readonly ComputeAppRow[],
    gpus: readonly LookupGpu[],
    startOf: (pid: number) => number | undefined,
  ): Promise<Map<string, MigPlace>> {
    const migGpus = new Map(gpus.filter((g) => g.migMode === true).map((g) => [g.uuid, g.index]));
    const onMig = rows.filter((r) => migGpus.has(r.gpuUuid));
    const lifeOf = (r: ComputeAppRow) => `${migPlaceKey(r.gpuUuid, r.pid)}/${startOf(r.pid) ?? ""}`;
    const live = new Set(onMig.map(lifeOf));
    for (const key of this.known.keys()) if (!live.has(key)) this.known.delete(key);
    for (const key of this.unplaced.keys()) if (!live.has(key)) this.unplaced.delete(key);
    const now = this.options.now();
    const due = (atMs: number) => now - atMs >= this.options.retryMs;
    const unknown = onMig.filter((r) => {
      const life = lifeOf(r);
      const miss = this.unplaced.get(life);
      return !this.known.has(life) && (miss === undefined || due(miss.atMs));
    });
    if (unknown.length > 0 && (!this.failure || due(this.failure.atMs))) {
      const found = await this.lookup(unknown, new Set(unknown.map((r) => r.gpuUuid)), migGpus);
      if (found)
        for (const r of unknown) {
          const place = found.get(migPlaceKey(r.gpuUuid, r.pid)) ?? noPlace;
          if (settled(place)) {
            this.known.set(lifeOf(r), place);
            this.unplaced.delete(lifeOf(r));
          } else this.unplaced.set(lifeOf(r), { place, atMs: now });
        }
    }
    const out = new Map<string, MigPlace>();
    for (const r of onMig) {
      const failed = this.failure && { missing: this.failure.why, reason: AbsentReason.ABSENT_REASON_ERROR };
      const life = lifeOf(r);
      const place = this.known.get(life) ?? this.unplaced.get(life)?.place;
      out.set(migPlaceKey(r.gpuUuid, r.pid), place ?? failed ?? noPlace);
    }
    return out;
  }

  /** `-L` then `-q -x -i` for the GPUs of `rows`; undefined (and `failure` set) when either fails. */
  private async lookup(
    rows: readonly ComputeAppRow[],
    gpuUuids: ReadonlySet<string>,
    migGpus: ReadonlyMap<string, number>,
  ): Promise<Map<string, MigPlace> | undefined> {
    const { command, timeoutMs, run } = this.options;
    try {
      const list = await run([...command, "-L"], timeoutMs);
      const listed = parseListGpus(outputOf(list, "-L", (r) => r.code === 0));
      const indices = [...gpuUuids].map((u) => migGpus.get(u)).sort((a = 0, b = 0) => a - b);
      const xml = await run([...command, "-q", "-x", "-i", indices.join(",")], timeoutMs);
      // A lost GPU makes the exit status non-zero while the others are still in the document.
      const text = outputOf(xml, "-q -x", (r) => r.stdout.includes("<nvidia_smi_log"));
      const detail = readXmlHolders((await convertSmiXml(text)).doc);
      this.failure = undefined;
      this.failures = 0;
      return migPlaces(rows, new Set(gpuUuids), listed, detail);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.failure = { atMs: this.options.now(), why: why.slice(0, 200) };
      // Logged once per run of failures; each process carries the reason meanwhile.
      if (this.failures++ === 0) this.options.logger.warn({ detail: why }, "MIG device lookup failed");
      return undefined;
    }
  }
}

/** A place that holds for the process life: its device, or a reason the outputs will keep giving. */
function settled(place: MigPlace): boolean {
  return "migUuid" in place || place.reason === AbsentReason.ABSENT_REASON_UNSUPPORTED;
}

const noPlace: MigPlace = {
  missing: "MIG device not looked up yet",
  reason: AbsentReason.ABSENT_REASON_NOT_QUERIED,
};

/** The command's stdout when `usable`; otherwise throws with the reason. */
function outputOf(result: OneShotResult, what: string, usable: (r: OneShotResult) => boolean): string {
  if (result.error) throw new Error(`nvidia-smi ${what} could not be started: ${result.error.message}`);
  if (result.timedOut) throw new Error(`nvidia-smi ${what} timed out`);
  if (!usable(result)) {
    const lines = outputLines(result);
    const detail = firstErrorLine(lines) ?? (lines[0] ?? "").slice(0, 200);
    throw new Error(`nvidia-smi ${what} failed (exit ${result.code}): ${detail}`);
  }
  return result.stdout;
}
