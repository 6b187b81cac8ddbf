// Prometheus remote-write 1.0 body: a protobuf WriteRequest (remote.proto beside this file),
// encoded by hand with protobufjs's Writer. The schema is Prometheus's, not ours, and four
// messages do not justify generated code; the wire test decodes the output with remote.proto.
import protobuf from "protobufjs";

export interface Label {
  name: string;
  value: string;
}

export interface TimeSeries {
  /** Sorted by name (see sortLabels). */
  labels: Label[];
  /** Parallel arrays, oldest first. */
  timestamps: number[];
  values: number[];
}

/** Labels sorted by name, as remote-write receivers require (byte order, not locale order). */
export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Encodes a WriteRequest: field 1 timeseries { 1 labels { 1 name, 2 value }, 2 samples { 1 value, 2 timestamp } }. */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const s of series) {
    w.uint32((1 << 3) | 2).fork();
    for (const l of s.labels) {
      w.uint32((1 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(l.name);
      w.uint32((2 << 3) | 2).string(l.value);
      w.ldelim();
    }
    for (let i = 0; i < s.timestamps.length; i++) {
      w.uint32((2 << 3) | 2).fork();
      w.uint32((1 << 3) | 1).double(s.values[i] as number);
      w.uint32((2 << 3) | 0).int64(s.timestamps[i] as number);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}
