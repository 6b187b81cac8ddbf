// Runs `nvidia-smi -q -x` (the inventory query), off the hot path, with a timeout. node-nvidia-smi hard-codes
// `exec('nvidia-smi -q -x')` (a shell, no timeout, no way to pass our command), so the command is
// spawned here and only the package's XML→object step is reused: its own xml2js (forced to a
// fixed version by npm overrides) with its options (explicitArray false, trim true).
import { createRequire } from "node:module";
import { GputelError } from "../../../shared/errors.js";
import type { SourceInventory } from "../source.js";
import type { RunOneShot } from "../supervisor/child-process.js";
import { byBusId } from "./by-bus-id.js";
import type { KnownGpu } from "./csv-stream.js";
import { firstErrorLine, outputLines } from "./error-lines.js";
import { attachMigDevices } from "./mig-inventory.js";
import { type ListedGpu, parseListGpus } from "./mig-text.js";
import { detectSchema, readInventory } from "./xml-gpu-facts.js";
import { readXmlHolders } from "./xml-holders.js";

interface Xml2js {
  parseStringPromise(xml: string, options: Record<string, unknown>): Promise<unknown>;
}

let xml2js: Xml2js | undefined;

function loadXml2js(): Xml2js {
  if (!xml2js) {
    const require = createRequire(import.meta.url);
    // Resolve xml2js as node-nvidia-smi does, so its conversion is the one we use.
    xml2js = createRequire(require.resolve("node-nvidia-smi"))("xml2js") as Xml2js;
  }
  return xml2js;
}

/** node-nvidia-smi's parser options (index.js). */
const XML_OPTIONS = { explicitArray: false, trim: true };

/** `nvidia-smi -q -x` text → the converted document and its DTD name. Rejects on unreadable XML. */
export async function convertSmiXml(xml: string): Promise<{ doc: unknown; schema: string }> {
  return { doc: await loadXml2js().parseStringPromise(xml, XML_OPTIONS), schema: detectSchema(xml) };
}

/**
 * Parses `nvidia-smi -q -x` output; `listed` (`-L`) gives MIG devices their UUID and profile.
 * Rejects with GPUTEL_E_INVENTORY on unreadable XML.
 */
export async function inventoryFromXml(
  xml: string,
  listed: readonly ListedGpu[] = [],
): Promise<SourceInventory> {
  const schema = detectSchema(xml);
  try {
    const { doc } = await convertSmiXml(xml);
    const inventory = readInventory(doc, schema);
    attachMigDevices(inventory.gpus, readXmlHolders(doc), listed);
    return inventory;
  } catch (error) {
    throw new GputelError(
      "GPUTEL_E_INVENTORY",
      "nvidia-smi -q -x printed XML that could not be read",
      { schema },
      {
        cause: error,
      },
    );
  }
}

/**
 * Gives each GPU of the inventory the index nvidia-smi knows it by (`known`: `-L` and the stream),
 * found by bus id, else by UUID. The document has no index element and leaves out a GPU that fell
 * off the bus, so from that GPU on a position is not an index; a GPU `known` lacks keeps its position.
 */
export function indexByKnownGpus(inventory: SourceInventory, known: readonly KnownGpu[]): void {
  const byBus = byBusId(known, (gpu) => gpu.pciBusId);
  for (const gpu of inventory.gpus) {
    const match = byBus(gpu.pci_bus_id) ?? known.find((k) => k.uuid !== "" && k.uuid === gpu.uuid);
    if (match) gpu.index = match.index;
  }
}

/**
 * Runs `<command> -q -x` through `run` (which owns the child) and parses it, its GPUs indexed as
 * `known` lists them (indexByKnownGpus).
 */
export async function queryInventory(
  command: readonly string[],
  timeoutMs: number,
  run: RunOneShot,
  known: readonly KnownGpu[] = [],
): Promise<SourceInventory> {
  const result = await run([...command, "-q", "-x"], timeoutMs);
  if (result.error) {
    throw new GputelError("GPUTEL_E_INVENTORY", "nvidia-smi -q -x could not be started", {
      error: result.error.message,
    });
  }
  if (result.timedOut) {
    throw new GputelError("GPUTEL_E_INVENTORY", "nvidia-smi -q -x timed out", { timeoutMs });
  }
  // With a lost GPU the exit status is non-zero but the others are still in the XML: use it.
  if (!result.stdout.includes("<nvidia_smi_log")) {
    const lines = outputLines(result);
    const detail = firstErrorLine(lines) ?? (lines[0] ?? "").slice(0, 200);
    throw new GputelError("GPUTEL_E_INVENTORY", `nvidia-smi -q -x failed: ${detail}`, { code: result.code });
  }
  const inventory = await inventoryFromXml(
    result.stdout,
    await listMig(command, timeoutMs, run, result.stdout),
  );
  indexByKnownGpus(inventory, known);
  return inventory;
}

/**
 * `-L` for the MIG UUIDs, only when the document has MIG devices. A failed `-L` leaves them
 * without UUID (the inventory is still worth sending); the next inventory asks again.
 */
async function listMig(
  command: readonly string[],
  timeoutMs: number,
  run: RunOneShot,
  xml: string,
): Promise<ListedGpu[]> {
  if (!xml.includes("<mig_device>")) return [];
  const result = await run([...command, "-L"], timeoutMs);
  return result.error || result.timedOut || result.code !== 0 ? [] : parseListGpus(result.stdout);
}
