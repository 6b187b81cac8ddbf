// The names the agent's `sources:` key accepts and what each one gives the agent. A leaf
// module: the configuration check reads it without loading any source. A new source is one
// more entry here, one in registry.ts, and a sibling folder.

/**
 * "gpu": a reading of every GPU each interval, the frames' content (an agent runs exactly one).
 * "events": things that happen (kernel-log Xid events), published on the event topic as they come.
 * "processes": who holds each GPU (agent/holders/), from the GPU source's compute-process rows:
 * needs nvidia-smi, published on the processes topic when the set changes.
 */
export type SourceKind = "gpu" | "events" | "processes";

export const SOURCE_KINDS = {
  "nvidia-smi": "gpu",
  "kernel-log": "events",
  processes: "processes",
} as const satisfies Record<string, SourceKind>;

export type SourceName = keyof typeof SOURCE_KINDS;

export const SOURCE_NAMES = Object.keys(SOURCE_KINDS) as SourceName[];

/** The default of `sources:`. */
export const DEFAULT_SOURCES: readonly SourceName[] = ["nvidia-smi"];

export function isSourceName(name: string): name is SourceName {
  return Object.hasOwn(SOURCE_KINDS, name);
}

/** What is wrong with a `sources:` list, each problem under the key path that has it. */
export function sourceListProblems(
  names: readonly string[],
  key = "sources",
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (!isSourceName(name))
      problems.push({
        path: `${key}[${i}]`,
        message: `unknown source ${JSON.stringify(name)} (known: ${SOURCE_NAMES.join(", ")})`,
      });
    else if (seen.has(name)) problems.push({ path: `${key}[${i}]`, message: `${name} is listed twice` });
    seen.add(name);
  });
  if (names.includes("processes") && !names.includes("nvidia-smi"))
    problems.push({
      path: key,
      message: "processes reads the nvidia-smi source's compute-process rows: list nvidia-smi too",
    });
  const gpu = names.filter((n) => isSourceName(n) && SOURCE_KINDS[n] === "gpu");
  if (problems.length === 0 && gpu.length !== 1) {
    const known = SOURCE_NAMES.filter((n) => SOURCE_KINDS[n] === "gpu").join(", ");
    problems.push({
      path: key,
      message: `needs exactly one GPU source (${known}), got ${gpu.length === 0 ? "none" : gpu.join(", ")}`,
    });
  }
  return problems;
}
