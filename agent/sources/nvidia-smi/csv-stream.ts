// The hot-path parser: lines of a long-lived `--query-gpu … -lms N` child in, one sample per loop
// iteration out. Pure state machine (time is passed in). A group of lines is one iteration: it
// ends when every expected GPU has been seen, when an index repeats (the next iteration began),
// or when the I/O layer forces a flush. GPUs missing from a group are still listed, never with
// old values.
import type { ErrorCode } from "../../../shared/errors.js";
import { GpuState, type IGpuSample } from "../../../shared/proto.js";
import { layoutFromHeader, layoutFromPlan, parseRow, type RowLayout } from "./csv-row.js";
import type { QueryPlan } from "./discovery.js";
import { classifyLine, normaliseBusId } from "./error-lines.js";

export interface KnownGpu {
  index: number;
  uuid: string;
  pciBusId?: string;
}

export type StreamEvent =
  | { type: "sample"; timestampMs: number; gpus: IGpuSample[]; missing: number[] }
  | { type: "gpu-lost"; index: number | undefined; line: string }
  | { type: "source-error"; code: ErrorCode; line: string }
  | { type: "garbage"; line: string };

/** state_detail of a GPU that had no line in an iteration (the runner may confirm it lost). */
export const MISSING_DETAIL = "no output for this GPU in this iteration";

export class CsvStream {
  private layout: RowLayout;
  private readonly known = new Map<number, KnownGpu>();
  /** GPUs reported lost; they stay lost (nvidia-smi may say so only once) until a row reappears. */
  private readonly lost = new Map<number, string>();
  private group = new Map<number, IGpuSample>();
  private groupStartedAt = 0;
  /** A "GPU is lost" line that named no GPU: applied to whatever GPU is missing from the group. */
  private unattributedLost: string | undefined;

  constructor(
    private readonly plan: QueryPlan,
    gpus: readonly KnownGpu[],
  ) {
    this.layout = layoutFromPlan(plan);
    for (const gpu of gpus) this.known.set(gpu.index, { ...gpu });
  }

  /** GPUs known so far (from -L, then from rows), by index. */
  knownGpus(): KnownGpu[] {
    return [...this.known.values()].sort((a, b) => a.index - b.index);
  }

  /** Feeds one line (stdout or stderr) received at `nowMs`. */
  push(line: string, nowMs: number): StreamEvent[] {
    const text = line.trimEnd();
    if (text.trim() === "") return [];
    const row = parseRow(line, this.layout);
    if (row) return this.add(row, nowMs);
    // Output with a header (no `noheader`): read columns by name from here on.
    if (text.startsWith("timestamp, ")) {
      const layout = layoutFromHeader(text, this.plan);
      if (layout) {
        this.layout = layout;
        return [];
      }
    }
    const cls = classifyLine(text);
    switch (cls.kind) {
      case "gpu-lost": {
        const index = cls.index ?? (cls.busId === undefined ? undefined : this.indexOfBus(cls.busId));
        if (index === undefined || !this.known.has(index)) {
          this.unattributedLost = cls.line;
          return [{ type: "gpu-lost", index: undefined, line: cls.line }];
        }
        this.lost.set(index, cls.line);
        const events: StreamEvent[] = [{ type: "gpu-lost", index, line: cls.line }];
        return events.concat(this.add(this.lostSample(index, cls.line), nowMs));
      }
      case "source-error":
        return [{ type: "source-error", code: cls.code, line: cls.line }];
      case "blank":
        return [];
      case "other":
        return [{ type: "garbage", line: text }];
    }
  }

  /** Ends the open group now (child exited, or the caller gave up waiting); nothing if it is empty. */
  flush(): StreamEvent[] {
    return this.group.size > 0 ? [this.emit()] : [];
  }

  /** Drops the open group (a new child starts its own iterations). */
  reset(): void {
    this.group = new Map();
    this.unattributedLost = undefined;
  }

  private add(sample: IGpuSample, nowMs: number): StreamEvent[] {
    const index = sample.index ?? 0;
    const events: StreamEvent[] = [];
    if (this.group.has(index)) events.push(this.emit());
    if (this.group.size === 0) this.groupStartedAt = nowMs;
    const prior = this.known.get(index);
    if (sample.state === GpuState.GPU_STATE_OK) {
      this.lost.delete(index);
      const busId = sample.pci_bus_id || prior?.pciBusId;
      this.known.set(index, {
        index,
        uuid: sample.uuid || prior?.uuid || "",
        ...(busId ? { pciBusId: busId } : {}),
      });
    } else if (!prior) {
      this.known.set(index, { index, uuid: sample.uuid ?? "" });
    }
    if (sample.state === GpuState.GPU_STATE_LOST) this.lost.set(index, sample.state_detail ?? "");
    this.group.set(index, sample);
    if (this.complete()) events.push(this.emit());
    return events;
  }

  private complete(): boolean {
    for (const index of this.known.keys()) {
      if (!this.group.has(index) && !this.lost.has(index)) return false;
    }
    return true;
  }

  private emit(): StreamEvent {
    const gpus: IGpuSample[] = [];
    const missing: number[] = [];
    for (const gpu of this.knownGpus()) {
      const sample = this.group.get(gpu.index);
      if (sample) {
        gpus.push(sample);
        continue;
      }
      const lostLine = this.lost.get(gpu.index);
      if (lostLine !== undefined) {
        gpus.push(this.lostSample(gpu.index, lostLine));
      } else if (this.unattributedLost !== undefined) {
        gpus.push(this.lostSample(gpu.index, this.unattributedLost));
        missing.push(gpu.index);
      } else {
        gpus.push({
          ...identity(gpu),
          state: GpuState.GPU_STATE_ERROR,
          state_detail: MISSING_DETAIL,
          absent: [],
        });
        missing.push(gpu.index);
      }
    }
    const event: StreamEvent = { type: "sample", timestampMs: this.groupStartedAt, gpus, missing };
    this.reset();
    return event;
  }

  private lostSample(index: number, line: string): IGpuSample {
    const gpu = this.known.get(index) ?? { index, uuid: "" };
    return { ...identity(gpu), state: GpuState.GPU_STATE_LOST, state_detail: line, absent: [] };
  }

  private indexOfBus(busId: string): number | undefined {
    for (const gpu of this.known.values()) {
      if (gpu.pciBusId !== undefined && normaliseBusId(gpu.pciBusId) === busId) return gpu.index;
    }
    return undefined;
  }
}

function identity(gpu: KnownGpu): IGpuSample {
  return { index: gpu.index, uuid: gpu.uuid, pci_bus_id: gpu.pciBusId ?? "" };
}
