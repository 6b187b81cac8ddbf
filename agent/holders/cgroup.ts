// `/proc/PID/cgroup` → the workload a process belongs to. Pure, never throws.
// Each line is `hierarchy-id:controllers:path` (cgroup v1: one line per hierarchy; v2: the single
// `0::path`; hybrid hosts have both). Every distinct path is classified and the most specific
// answer wins (Kubernetes > Docker > Slurm > user session > systemd unit), because on hybrid
// hosts the v2 line can name the runtime's own unit (`0::/system.slice/containerd.service`)
// while the v1 lines name the container. Layouts are tested on real files in
// test/fixtures/cgroup/ (README there gives each one's source).

export type KubeRuntime = "containerd" | "cri-o" | "docker";
export type KubeQos = "guaranteed" | "burstable" | "besteffort";

export type Workload =
  | { kind: "kubernetes"; podUid: string; qos: KubeQos; containerId?: string; runtime?: KubeRuntime }
  | { kind: "docker"; containerId: string }
  | { kind: "slurm"; jobId: string; stepId?: string; uid?: number }
  | { kind: "user-session"; uid: number; session?: string }
  | { kind: "systemd-unit"; unit: string }
  | { kind: "none" };

export interface CgroupLine {
  hierarchy: string;
  controllers: string;
  path: string;
}

const RANK: Record<Workload["kind"], number> = {
  kubernetes: 5,
  docker: 4,
  slurm: 3,
  "user-session": 2,
  "systemd-unit": 1,
  none: 0,
};

/** Lines of the file; malformed lines are skipped (the path may itself hold ':'). */
export function parseCgroupLines(text: string): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    if (second < 0) continue;
    const hierarchy = line.slice(0, first);
    const path = line.slice(second + 1);
    if (!/^\d+$/.test(hierarchy) || !path.startsWith("/")) continue;
    lines.push({ hierarchy, controllers: line.slice(first + 1, second), path });
  }
  return lines;
}

export function workloadFromCgroup(text: string): Workload {
  let best: Workload = { kind: "none" };
  const seen = new Set<string>();
  for (const { path } of parseCgroupLines(text)) {
    if (seen.has(path)) continue;
    seen.add(path);
    const found = workloadFromPath(path);
    if (RANK[found.kind] > RANK[best.kind]) best = found;
  }
  return best;
}

const HEX64 = /^[0-9a-f]{64}$/;
// A pod UID: dashed (cgroupfs), underscored (systemd slice names escape '-'), or a static
// pod's 32-hex config hash.
const POD_SEGMENT =
  /^(?:[\w-]*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(\.slice)?(?::([\w-]+):([0-9a-f]{64}))?$/;
const SCOPE = /^(cri-containerd|crio|docker)-([0-9a-f]{64})\.scope$/;
const RUNTIME: Record<string, KubeRuntime> = {
  "cri-containerd": "containerd",
  crio: "cri-o",
  docker: "docker",
};

/** Classifies one cgroup path. Relative parts (`/../..`, seen inside cgroup namespaces) are dropped. */
export function workloadFromPath(path: string): Workload {
  const segments = path.split("/").filter((s) => s !== "" && s !== "." && s !== "..");
  return (
    kubernetes(segments) ??
    docker(segments) ??
    slurm(segments) ??
    userSession(segments) ??
    systemdUnit(segments) ?? { kind: "none" }
  );
}

function kubernetes(segments: string[]): Workload | undefined {
  if (!segments.some((s) => s.includes("kubepods"))) return undefined;
  const podAt = segments.findIndex((s) => POD_SEGMENT.test(s));
  if (podAt < 0) return undefined;
  const m = POD_SEGMENT.exec(segments[podAt] ?? "");
  if (!m) return undefined;
  const qos = qosOf(segments.slice(0, podAt + 1));
  const workload: Workload = { kind: "kubernetes", podUid: (m[1] ?? "").replaceAll("_", "-"), qos };
  // containerd with the systemd driver on cgroup v1 names the container `pod….slice:cri-containerd:ID`.
  if (m[3] !== undefined && m[4] !== undefined) {
    const runtime = RUNTIME[m[3]];
    return { ...workload, containerId: m[4], ...(runtime ? { runtime } : {}) };
  }
  const next = segments[podAt + 1];
  if (next === undefined) return workload;
  const scope = SCOPE.exec(next);
  if (scope)
    return { ...workload, containerId: scope[2] ?? "", runtime: RUNTIME[scope[1] ?? ""] ?? "docker" };
  // cgroupfs driver: a bare id, and nothing in the path says which runtime made it.
  if (HEX64.test(next)) return { ...workload, containerId: next };
  return workload;
}

function qosOf(segments: string[]): KubeQos {
  for (const s of segments) {
    if (/(^|-)besteffort(\.slice|-|$)/.test(s)) return "besteffort";
    if (/(^|-)burstable(\.slice|-|$)/.test(s)) return "burstable";
  }
  // Guaranteed pods sit directly under kubepods: the QoS class has no cgroup of its own.
  return "guaranteed";
}

function docker(segments: string[]): Workload | undefined {
  // The innermost container wins (docker-in-docker nests /docker/ID/docker/ID).
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] ?? "";
    const scope = /^docker-([0-9a-f]{64})\.scope$/.exec(s);
    if (scope) return { kind: "docker", containerId: scope[1] ?? "" };
    if (HEX64.test(s) && segments[i - 1] === "docker") return { kind: "docker", containerId: s };
  }
  return undefined;
}

function slurm(segments: string[]): Workload | undefined {
  // v1: /slurm/uid_N/job_M/step_S/… (or /slurm_<node>/… with multiple slurmd);
  // v2: /system.slice/slurmstepd.scope/job_M/step_S/… (or <node>_slurmstepd.scope).
  const root = segments.findIndex((s) => /^slurm(_.+)?$/.test(s) || /(^|_)slurmstepd\.scope$/.test(s));
  if (root < 0) return undefined;
  let uid: number | undefined;
  for (let i = root + 1; i < segments.length; i++) {
    const s = segments[i] ?? "";
    const u = /^uid_(\d+)$/.exec(s);
    if (u) uid = Number(u[1]);
    const job = /^job_(\d+)$/.exec(s);
    if (!job) continue;
    const step = /^step_(\w+)$/.exec(segments[i + 1] ?? "");
    return {
      kind: "slurm",
      jobId: job[1] ?? "",
      ...(step ? { stepId: step[1] ?? "" } : {}),
      ...(uid !== undefined ? { uid } : {}),
    };
  }
  return undefined;
}

function userSession(segments: string[]): Workload | undefined {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] ?? "";
    const user = /^user-(\d+)\.slice$/.exec(s) ?? /^user@(\d+)\.service$/.exec(s);
    const old = /^(\d+)\.user$/.exec(s); // pre-2013 systemd: /user/1000.user/c2.session
    const uid = user?.[1] ?? old?.[1];
    if (uid === undefined) continue;
    const rest = segments.slice(i + 1);
    const session = rest
      .map((r) => /^session-(\w+)\.scope$/.exec(r) ?? /^(\w+)\.session$/.exec(r))
      .find(Boolean);
    return { kind: "user-session", uid: Number(uid), ...(session ? { session: session[1] ?? "" } : {}) };
  }
  return undefined;
}

function systemdUnit(segments: string[]): Workload | undefined {
  // The innermost unit: /system.slice/systemd-udevd.service/udev belongs to systemd-udevd.service.
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] ?? "";
    if (/\.(service|scope)$/.test(s)) return { kind: "systemd-unit", unit: s };
  }
  return undefined;
}
