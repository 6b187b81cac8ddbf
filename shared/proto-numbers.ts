// Decodes 64-bit protobuf fields (seq, timestamps, counters) as plain numbers, as the generated
// types say; they stay far below 2^53. protobufjs returns Long objects whenever the `long` package
// is installed, which it is as a dependency of protobufjs itself.
//
// This must run before proto/generated/gputel.js is evaluated, not merely before the first decode:
// the generated module fixes each message's prototype defaults when it loads
// (`Frame.prototype.frames_dropped = $util.Long ? Long.fromBits(0, 0, true) : 0`), and proto3 does not
// encode zeros, so a field that is 0 reads that default. shared/proto.ts imports this module first,
// and ES modules evaluate their imports in order. The same holds under `tsc` output (dist/) and vitest.
import protobuf from "protobufjs/minimal.js";

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
// Re-selects the Reader's 64-bit methods (number instead of Long) now that Long is off.
protobuf.configure();
