// Raw rows and blocks hold one column per metric of the catalogue (shared/metrics.ts), in its
// order, and the codecs size them by the catalogue of the build that reads them. A database
// written by a build with another catalogue would be misread silently, so the catalogue a
// database was written with is recorded at its creation and checked at every open.
import type { Database } from "better-sqlite3";
import { GputelError } from "../../shared/errors.js";
import { METRICS } from "../../shared/metrics.js";

const KEY = "metric_keys";

/** This build's metric layout: the catalogue's keys in storage order. */
export function metricLayout(): string {
  return METRICS.map((m) => m.key).join(",");
}

/** Records the layout in a new database; refuses one written with another layout. */
export function checkMetricLayout(db: Database, path: string, layout = metricLayout()): void {
  const stored = db.prepare("SELECT value FROM store_meta WHERE key = ?").pluck().get(KEY) as
    | string
    | undefined;
  if (stored === layout) return;
  if (stored !== undefined) {
    const had = stored.split(",").length;
    throw new GputelError(
      "GPUTEL_E_STORE_LAYOUT",
      `${path} was written with ${had} metrics per sample, this build stores ${METRICS.length}: it would misread them. Keep the file for the build that wrote it and give this one a new database`,
      { path },
    );
  }
  const hasSamples = db
    .prepare("SELECT EXISTS (SELECT 1 FROM raw_blocks) OR EXISTS (SELECT 1 FROM raw_recent)")
    .pluck()
    .get() as number;
  if (hasSamples === 1) {
    throw new GputelError(
      "GPUTEL_E_STORE_LAYOUT",
      `${path} holds samples written before the store recorded its metric layout, with fewer metrics per sample than this build stores (${METRICS.length}): it would misread them. Keep the file for the build that wrote it and give this one a new database`,
      { path },
    );
  }
  db.prepare("INSERT INTO store_meta (key, value) VALUES (?, ?)").run(KEY, layout);
}
