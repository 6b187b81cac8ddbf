// The leases `npm start` ships (issue 15), made through the collector's own API as a provider
// would make them (loopback without a token is the local admin): once every GPU of the scenario
// has reported, each host's GPUs are leased to the tenant its `customer` label names, but for
// one GPU left for sale; partway through, one lease ends and another tenant's starts on the same
// GPU at that instant, so the tenants view and the lease reports show a GPU whose past stays
// with its first tenant. dgx-a01's GPU 7 (idle-held in the scenario) gives acme idle-held GPUs.

/** host:index left unleased: for sale. */
export const FOR_SALE = "ws-d04:1";
/** The GPU that changes tenant mid-demo, and when (after the leases are made). */
export const MOVED = { gpu: "hgx-b02:3", to: "initech", afterMs: 45_000 };
const TERMS = {
  acme: {
    pricePerGpuHour: "2.40",
    currency: "EUR",
    committedAvailabilityPct: 99.5,
    contract: "ACME-2026-11",
  },
  globex: { pricePerGpuHour: "1.95", currency: "USD", committedAvailabilityPct: 99.9, contract: "PO-7781" },
  initech: { pricePerGpuHour: "0.35", currency: "EUR" },
};
const POLL_MS = 500;
const DEADLINE_MS = 60_000;

const leaseId = (tenant, host, index) => `demo-${tenant}-${host}-${index}`;

async function call(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await response.json();
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${answer.message ?? answer.error}`);
  return answer;
}

/** The scenario's GPUs once the collector lists all of them (polled, with a deadline). */
async function allGpus(url, count, stopped) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const gpus = await call(url, "GET", "/api/v1/gpus")
      .then((a) => a.gpus)
      .catch(() => []);
    if (gpus.length >= count || stopped()) return gpus;
    if (Date.now() > deadline) throw new Error(`only ${gpus.length} of ${count} GPUs reported within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Starts making the demo's leases; `log(line)` reports them. Errors are logged, never thrown:
 * the demo goes on without leases. stop() cancels what has not run yet.
 */
export function startDemoLeases({ url, hosts, customers, gpuCount, log }) {
  let stopped = false;
  let timer;
  const run = async () => {
    const gpus = await allGpus(url, gpuCount, () => stopped);
    if (stopped) return;
    const start = new Date().toISOString();
    const counts = {};
    for (const g of gpus) {
      const name = `${g.host}:${g.index}`;
      const hostIndex = hosts.indexOf(g.host);
      if (name === FOR_SALE || hostIndex < 0) continue;
      const tenant = customers[hostIndex % customers.length];
      await call(url, "POST", "/api/v1/leases", {
        id: leaseId(tenant, g.host, g.index),
        device: g.uuid,
        tenant,
        start,
        ...TERMS[tenant],
        labels: { demo: "npm-start" },
      });
      counts[tenant] = (counts[tenant] ?? 0) + 1;
    }
    const summary = Object.entries(counts)
      .map(([t, n]) => `${t} ${n}`)
      .join(", ");
    log(`leased ${gpus.length - 1} of ${gpus.length} GPUs (${summary}); ${FOR_SALE} is for sale`);
    timer = setTimeout(
      () => void move(gpus).catch((error) => log(`moving ${MOVED.gpu} failed: ${error.message}`)),
      MOVED.afterMs,
    );
  };
  const move = async (gpus) => {
    if (stopped) return;
    const [host, index] = MOVED.gpu.split(":");
    const gpu = gpus.find((g) => g.host === host && String(g.index) === index);
    const from = customers[hosts.indexOf(host) % customers.length];
    // The new lease starts at the instant the old one ended: no minute is lost or billed twice.
    const ended = await call(url, "POST", `/api/v1/leases/${leaseId(from, host, index)}/end`, {});
    await call(url, "POST", "/api/v1/leases", {
      id: leaseId(MOVED.to, host, index),
      device: gpu.uuid,
      tenant: MOVED.to,
      start: ended.endMs,
      ...TERMS[MOVED.to],
      labels: { demo: "npm-start" },
    });
    log(`${MOVED.gpu} moved from ${from} to ${MOVED.to}: its past stays with ${from}`);
  };
  void run().catch((error) => log(`demo leases not made: ${error.message}`));
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
