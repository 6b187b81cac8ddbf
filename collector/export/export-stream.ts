// `gputel export` as a stream of text chunks (about 64 KiB each): GPU by GPU and slice by slice
// from an ExportSource, in one of three formats (docs/export.md). Nothing is built whole: each
// chunk is handed on before the next slice is read, and after each chunk the event loop gets a
// turn, so ingest keeps committing while a long export runs.
import { setImmediate as nextTurn } from "node:timers/promises";
import { type ExportColumn, type ExportFormat, type ExportTier, exportColumns } from "./columns.js";
import { csvChunks } from "./format-csv.js";
import { openMetricsChunks } from "./format-openmetrics.js";
import { vmJsonlChunks } from "./format-vm-jsonl.js";
import type { ExportSource } from "./store-source.js";

/** A GPU as exported: its identity labels (shared/prom-labels.ts bounds the agent labels). */
export interface ExportGpu {
  uuid: string;
  host: string;
  index: number;
  model: string;
  site: string;
  labels: Readonly<Record<string, string>>;
}

export interface ExportRequest {
  /** [fromMs, toMs): sample timestamps, or rollup bucket starts. */
  fromMs: number;
  toMs: number;
  tier: ExportTier;
  format: ExportFormat;
  gpus: readonly ExportGpu[];
}

/** What a format writes into: text parts, taken as one chunk once about 64 KiB gathered. */
export class Chunker {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly limit = 65_536) {}

  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  get full(): boolean {
    return this.size >= this.limit;
  }

  take(): string {
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    return text;
  }
}

export type FormatChunks = (
  source: ExportSource,
  request: ExportRequest,
  columns: readonly ExportColumn[],
  out: Chunker,
) => Generator<string>;

const FORMATS: Record<ExportFormat, FormatChunks> = {
  openmetrics: openMetricsChunks,
  "vm-jsonl": vmJsonlChunks,
  csv: csvChunks,
};

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
  "vm-jsonl": "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8; header=present",
};

export const FILE_EXTENSIONS: Record<ExportFormat, string> = {
  openmetrics: "om.txt",
  "vm-jsonl": "jsonl",
  csv: "csv",
};

/** The export as text chunks; `onChunk` sees each one (counts for logs and benches). */
export async function* exportChunks(source: ExportSource, request: ExportRequest): AsyncGenerator<string> {
  const out = new Chunker();
  const columns = exportColumns(request.tier);
  for (const chunk of FORMATS[request.format](source, request, columns, out)) {
    yield chunk;
    await nextTurn();
  }
  const rest = out.take();
  if (rest !== "") yield rest;
}
