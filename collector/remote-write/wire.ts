// Prometheus remote-write 1.0 body: a protobuf WriteRequest (remote.proto beside this file),
// encoded by hand. The schema is Prometheus's, not ours, and four messages do not justify
// generated code; the wire test decodes the output with remote.proto. A series' labels are
// encoded once with protobufjs's Writer and reused (they repeat in every request); the samples
// are written straight into a growing buffer: protobufjs's fork/ldelim per sample costs about
// ten times more, and remote-write sends one message per sample.
import protobuf from "protobufjs";

export interface Label {
  name: string;
  value: string;
}

export interface TimeSeries {
  /** Sorted by name (see sortLabels). */
  labels: Label[];
  /** The encoded labels (encodeLabels), when the caller keeps them between requests. */
  labelBytes?: Uint8Array;
  /** Parallel arrays, oldest first. */
  timestamps: number[];
  values: number[];
}

/** Labels sorted by name, as remote-write receivers require (byte order, not locale order). */
export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** TimeSeries field 1, once per label: Label { 1 name, 2 value }. */
export function encodeLabels(labels: readonly Label[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const l of labels) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(l.name);
    w.uint32((2 << 3) | 2).string(l.value);
    w.ldelim();
  }
  return w.finish();
}

class Out {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  n = 0;
  need(bytes: number): void {
    if (this.n + bytes <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + bytes));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  /** Unsigned varint of a non-negative safe integer (timestamps need more than 32 bits). */
  varint(v: number): void {
    this.need(10);
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.n++] = v;
  }
  byte(b: number): void {
    this.need(1);
    this.buf[this.n++] = b;
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  double(v: number): void {
    this.need(8);
    this.view.setFloat64(this.n, v, true);
    this.n += 8;
  }
}

function varintSize(v: number): number {
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    size++;
  }
  return size;
}

/** WriteRequest { 1 timeseries { 1 labels, 2 samples { 1 double value, 2 int64 timestamp } } }. */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const out = new Out();
  for (const s of series) {
    const labels = s.labelBytes ?? encodeLabels(s.labels);
    let length = labels.length;
    for (const ts of s.timestamps) {
      // Timestamps before 1970 would need int64's ten-byte negative form; none are sent.
      const sampleLength = 1 + 8 + 1 + varintSize(Math.max(0, ts));
      length += 1 + varintSize(sampleLength) + sampleLength;
    }
    out.byte((1 << 3) | 2);
    out.varint(length);
    out.bytes(labels);
    for (let i = 0; i < s.timestamps.length; i++) {
      const ts = Math.max(0, s.timestamps[i] as number);
      out.byte((2 << 3) | 2);
      out.varint(1 + 8 + 1 + varintSize(ts));
      out.byte((1 << 3) | 1);
      out.double(s.values[i] as number);
      out.byte(2 << 3);
      out.varint(ts);
    }
  }
  return out.buf.subarray(0, out.n);
}
