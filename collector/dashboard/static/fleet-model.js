// The fleet as the page holds it: one record per GPU built from the layout (UUIDs, hosts, sites,
// labels, models; fetched again only when its version changes) and refreshed in place from each
// poll's columns. Grouping into tiles (site → rack) and the filters live here, without the DOM.
const RACK_KEY = /^rack([-_ ]?(id|name))?$/i;
const CUSTOMER_KEY = /^(customer|tenant)$/i;
/** Hosts per tile where no rack label says which rack a host is in. */
const HOSTS_PER_GROUP = 16;

function labelKey(layout, pattern) {
  for (const labels of layout.hosts.labels)
    for (const k of Object.keys(labels)) if (pattern.test(k)) return k;
  return null;
}

export function buildFleet(cells) {
  const layout = cells.layout;
  const rackKey = labelKey(layout, RACK_KEY);
  const customerKey = labelKey(layout, CUSTOMER_KEY);
  const hostGroup = new Map();
  if (!rackKey) {
    // Hosts of a site in name order, in runs of HOSTS_PER_GROUP: "node-0001…node-0016".
    const bySite = new Map();
    layout.hosts.name.forEach((name, h) => {
      const site = layout.sites[layout.hosts.site[h]];
      if (!bySite.has(site)) bySite.set(site, []);
      bySite.get(site).push(name);
    });
    for (const names of bySite.values()) {
      names.sort();
      for (let i = 0; i < names.length; i += HOSTS_PER_GROUP) {
        const run = names.slice(i, i + HOSTS_PER_GROUP);
        const key = run.length > 1 ? `${run[0]}…${run[run.length - 1]}` : run[0];
        for (const n of run) hostGroup.set(n, key);
      }
    }
  }
  const gpus = layout.gpus.uuid.map((uuid, i) => {
    const h = layout.gpus.host[i];
    const host = layout.hosts.name[h];
    const labels = layout.hosts.labels[h];
    return {
      uuid,
      host,
      index: layout.gpus.index[i],
      site: layout.sites[layout.hosts.site[h]],
      model: layout.models[layout.gpus.model[i]],
      labels,
      rack: rackKey ? (labels[rackKey] ?? "–") : hostGroup.get(host),
      customer: customerKey ? (labels[customerKey] ?? "–") : "–",
      text: null,
      state: "unknown",
      usage: "unknown",
      util: null,
      temp: null,
      mask: 0,
      kinds: [],
    };
  });
  return {
    version: cells.layoutVersion,
    gpus,
    rackKey,
    customerKey,
    kindNames: cells.kinds,
    cellIds: cellIds(gpus),
  };
}

/**
 * Every id a cell answers to (its UUID and `host:index`), built once per layout: the page asks
 * whether a GPU has a cell for each MIG lease on every poll, which a scan of the GPUs made grow
 * with leases × GPUs on an admin's page.
 */
function cellIds(gpus) {
  const ids = new Set();
  for (const g of gpus) {
    ids.add(g.uuid);
    ids.add(`${g.host}:${g.index}`);
  }
  return ids;
}

/** Whether `fleet` (null before the first layout) has a cell of GPU `id` (UUID or host:index). */
export function hasCell(fleet, id) {
  return fleet?.cellIds.has(id) ?? false;
}

/** Values of one poll, in the layout's GPU order. */
export function applyCells(fleet, cells) {
  const c = cells.gpus;
  const kindCache = new Map();
  fleet.gpus.forEach((g, i) => {
    g.state = cells.states[c.state[i]] ?? "unknown";
    g.usage = cells.usage[c.usage[i]] ?? "unknown";
    g.util = c.util[i];
    g.temp = c.temp[i];
    const mask = c.flags[i];
    if (!kindCache.has(mask))
      kindCache.set(
        mask,
        cells.kinds.filter((_, b) => mask & (1 << b)),
      );
    g.mask = mask;
    g.kinds = kindCache.get(mask);
  });
}

/** The options each filter offers, sorted. */
export function choices(fleet) {
  const sets = { site: new Set(), customer: new Set(), rack: new Set(), model: new Set() };
  for (const g of fleet.gpus) for (const k of Object.keys(sets)) sets[k].add(g[k]);
  return Object.fromEntries(Object.entries(sets).map(([k, s]) => [k, [...s].sort()]));
}

export function matches(g, f) {
  if (f.site && g.site !== f.site) return false;
  if (f.customer && g.customer !== f.customer) return false;
  if (f.rack && g.rack !== f.rack) return false;
  if (f.model && g.model !== f.model) return false;
  if (f.host && g.host !== f.host) return false;
  if (f.flag && !g.kinds.includes(f.flag)) return false;
  if (f.problems && g.kinds.length === 0) return false;
  if (f.q) {
    // Built on the first search, not for every GPU at load.
    g.text ??=
      `${g.host} ${g.host}:${g.index} ${g.uuid} ${Object.values(g.labels).join(" ")} ${g.model}`.toLowerCase();
    if (!g.text.includes(f.q.toLowerCase())) return false;
  }
  return true;
}

/** site → tiles (one per rack or run of hosts), each with its hosts' GPUs in order. */
export function tiles(gpus) {
  const sites = new Map();
  for (const g of gpus) {
    if (!sites.has(g.site)) sites.set(g.site, new Map());
    const racks = sites.get(g.site);
    if (!racks.has(g.rack)) racks.set(g.rack, { site: g.site, rack: g.rack, gpus: [], hosts: new Map() });
    const t = racks.get(g.rack);
    t.gpus.push(g);
    if (!t.hosts.has(g.host)) t.hosts.set(g.host, []);
    t.hosts.get(g.host).push(g);
  }
  return new Map(
    [...sites]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, racks]) => [
        s,
        [...racks.values()].sort((a, b) => a.rack.localeCompare(b.rack, undefined, { numeric: true })),
      ]),
  );
}

/** What a tile or a site says in numbers. */
export function stats(gpus) {
  let busy = 0;
  let known = 0;
  let utilSum = 0;
  let utilN = 0;
  let hottest = null;
  let problems = 0;
  let hot = 0;
  let down = 0;
  const customers = new Set();
  for (const g of gpus) {
    if (g.usage !== "unknown") known++;
    if (g.usage === "busy") busy++;
    if (g.util !== null) {
      utilSum += g.util;
      utilN++;
    }
    if (g.temp !== null && (hottest === null || g.temp > hottest)) hottest = g.temp;
    if (g.kinds.length > 0) problems++;
    if (g.kinds.includes("overheat")) hot++;
    if (g.state !== "ok") down++;
    customers.add(g.customer);
  }
  return {
    gpus: gpus.length,
    busyShare: known > 0 ? busy / known : null,
    meanUtil: utilN > 0 ? utilSum / utilN : null,
    hottest,
    problems,
    hot,
    down,
    customers: [...customers],
  };
}
