// Finding a GPU by its PCI bus id. `nvidia-smi -q -x` has no index element and leaves out a GPU
// that fell off the bus (test/fixtures/nvidia-smi/errors.md), so a GPU's position in the document
// is not its index once one before it is lost: its GPUs are matched to the others by bus id. Pure.
import { normaliseBusId } from "./error-lines.js";

/** A lookup of `items` by bus id, whichever spelling each side uses (`00000000:01:00.0`, `0000:01:00.0`). */
export function byBusId<T>(
  items: readonly T[],
  busOf: (item: T) => string | null | undefined,
): (busId: string | null | undefined) => T | undefined {
  const found = new Map<string, T>();
  for (const item of items) {
    const bus = normaliseBusId(busOf(item) ?? "");
    if (bus !== undefined) found.set(bus, item);
  }
  return (busId) => {
    const bus = normaliseBusId(busId ?? "");
    return bus === undefined ? undefined : found.get(bus);
  };
}
