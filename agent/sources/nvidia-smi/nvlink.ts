// `nvidia-smi nvlink -s` (link state and speed) and `nvidia-smi nvlink -e` (error counters) →
// per-GPU readings. Pure. Both print a `GPU N: <name> (UUID: <uuid>)` header, then one line per
// link indented with a TAB and a space (`\t Link 0: 26.562 GB/s`; copies pasted into documents
// hold spaces instead), or one line saying why there are none: consumer cards ("Device does not
// have or support Nvlink", "NVML: Unable to retrieve Nvlink information as all links are
// inActive") and MIG mode ("Nvlink queries are not supported for Devices in MIG mode").

/** Why a GPU has no link lines; "supported" when it has them. */
export type NvlinkSupport = "supported" | "not-supported" | "all-inactive" | "mig" | "error";

interface GpuHeader {
  index: number;
  name: string;
  uuid: string;
  support: NvlinkSupport;
  /** The line nvidia-smi printed instead of links (or an unrecognised one); null when none. */
  note: string | null;
}

export interface NvlinkLinkStatus {
  link: number;
  /** `<inactive>` is down; a speed is up; anything else is unknown (its text is kept). */
  state: "up" | "inactive" | "unknown";
  speedGBps: number | null;
  text: string;
}

export interface NvlinkGpuStatus extends GpuHeader {
  links: NvlinkLinkStatus[];
}

export interface NvlinkLinkErrors {
  link: number;
  /** Counter name as printed (`Replay Errors`, `CRC Errors`) → value; null for N/A. */
  counters: Record<string, number | null>;
}

export interface NvlinkGpuErrors extends GpuHeader {
  links: NvlinkLinkErrors[];
}

export interface NvlinkOutput<G> {
  gpus: G[];
  /** Lines that fit nothing above (before any GPU header, or garbled): for a log line, not an error. */
  unparsed: string[];
}

const HEADER = /^GPU (\d+): (.*) \(UUID: ([^)]+)\)\s*$/;
const LINK = /^\s*Link (\d+): (.*?)\s*$/;
const SPEED = /^(\d+(?:\.\d+)?) GB\/s$/;
const COUNTER = /^(.+?): (\S+)$/;

function supportOf(line: string): NvlinkSupport {
  if (/not supported for Devices in MIG mode/i.test(line)) return "mig";
  if (/does not have or support Nvlink/i.test(line)) return "not-supported";
  if (/all links are inactive/i.test(line)) return "all-inactive";
  return "error";
}

function parseBlocks<L>(
  text: string,
  readLink: (link: number, rest: string) => L | null,
): NvlinkOutput<GpuHeader & { links: L[] }> {
  const gpus: (GpuHeader & { links: L[] })[] = [];
  const unparsed: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    // `[...]` is an elision in a pasted copy (test/fixtures/nvidia-smi/extra/), never tool output.
    if (line.trim() === "" || line.trim() === "[...]") continue;
    const header = HEADER.exec(line);
    if (header) {
      gpus.push({
        index: Number(header[1]),
        name: header[2] ?? "",
        uuid: header[3] ?? "",
        support: "supported",
        note: null,
        links: [],
      });
      continue;
    }
    const gpu = gpus.at(-1);
    const link = LINK.exec(line);
    const parsed = gpu && link ? readLink(Number(link[1]), link[2] ?? "") : null;
    if (gpu && parsed !== null) {
      gpu.links.push(parsed);
    } else if (gpu && gpu.links.length === 0 && gpu.note === null && !link) {
      gpu.note = line.trim();
      gpu.support = supportOf(line);
    } else {
      unparsed.push(line);
    }
  }
  return { gpus, unparsed };
}

/** `nvidia-smi nvlink -s`. Never throws. */
export function parseNvlinkStatus(text: string): NvlinkOutput<NvlinkGpuStatus> {
  return parseBlocks(text, (link, rest): NvlinkLinkStatus => {
    const speed = SPEED.exec(rest);
    if (speed) return { link, state: "up", speedGBps: Number(speed[1]), text: rest };
    return { link, state: /^<inactive>$/i.test(rest) ? "inactive" : "unknown", speedGBps: null, text: rest };
  });
}

/** `nvidia-smi nvlink -e`: one `Link N: <counter>: <value>` line per counter, merged per link. Never throws. */
export function parseNvlinkErrors(text: string): NvlinkOutput<NvlinkGpuErrors> {
  const out = parseBlocks(text, (link, rest): NvlinkLinkErrors | null => {
    const m = COUNTER.exec(rest);
    if (!m) return null;
    const value = m[2] ?? "";
    return { link, counters: { [m[1] ?? ""]: /^\d+$/.test(value) ? Number(value) : null } };
  });
  for (const gpu of out.gpus) {
    const merged = new Map<number, NvlinkLinkErrors>();
    for (const l of gpu.links) {
      const entry = merged.get(l.link) ?? { link: l.link, counters: {} };
      Object.assign(entry.counters, l.counters);
      merged.set(l.link, entry);
    }
    gpu.links = [...merged.values()];
  }
  return out;
}

/** Links up, inactive, and up but slower than the GPU's fastest link (a link trained down). */
export function nvlinkStatusSummary(gpu: NvlinkGpuStatus): {
  up: number;
  inactive: number;
  belowFastest: number;
} {
  const speeds = gpu.links.flatMap((l) => (l.speedGBps === null ? [] : [l.speedGBps]));
  const fastest = Math.max(0, ...speeds);
  return {
    up: gpu.links.filter((l) => l.state === "up").length,
    inactive: gpu.links.filter((l) => l.state === "inactive").length,
    belowFastest: speeds.filter((s) => s < fastest).length,
  };
}

/**
 * Counters that say a link had to retransmit or retrain: replay, recovery, CRC (`CRC Errors`, and
 * the `CRC Flit`/`CRC Data` split some drivers print). Newer drivers add rates and corrected-FEC
 * counts that grow on healthy links: those are not summed.
 */
const ERROR_COUNTER = /^(replay|recovery|crc)\b.*\berrors$/i;

/** Replay + recovery + CRC errors over the GPU's links; null when no link printed such a counter as a number. */
export function nvlinkErrorSum(gpu: NvlinkGpuErrors): number | null {
  let sum: number | null = null;
  for (const link of gpu.links)
    for (const [name, value] of Object.entries(link.counters))
      if (value !== null && ERROR_COUNTER.test(name)) sum = (sum ?? 0) + value;
  return sum;
}
