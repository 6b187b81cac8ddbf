// Agent labels as Prometheus labels, one rule for /metrics and remote_write so that both name a
// GPU's series alike: `label_` + the key with characters outside [A-Za-z0-9_] as `_`, in key
// order, at most MAX_EXPORTED_AGENT_LABELS of them. Ingest accepts up to 32 labels per agent;
// with the 5 identity labels, `state`, `__name__` and the `job`/`instance` a scrape adds, all 32
// would pass the 30 label names per series that Mimir and Cortex allow by default. 16 keeps
// every gputel series at 25 or fewer.
export const MAX_EXPORTED_AGENT_LABELS = 16;

export function agentLabelName(key: string): string {
  return `label_${key.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** [name, value] pairs of the exported agent labels (empty values left out; two keys that map to one name: the first in key order wins). */
export function exportedAgentLabels(labels: Readonly<Record<string, string>>): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    const name = agentLabelName(key);
    if (value === undefined || value === "" || seen.has(name)) continue;
    seen.add(name);
    out.push([name, value]);
    if (out.length === MAX_EXPORTED_AGENT_LABELS) break;
  }
  return out;
}
