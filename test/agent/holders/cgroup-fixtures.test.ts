// Every real /proc/PID/cgroup file in test/fixtures/cgroup/ (README there gives each source),
// classified; and the parser never throws on arbitrary text.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Workload, workloadFromCgroup, workloadFromPath } from "../../../agent/holders/cgroup.js";

const DIR = join(import.meta.dirname, "../../fixtures/cgroup");

const EXPECTED: Record<string, Workload> = {
  "docker-cgroupfs-v1-ubuntu.cgroup": {
    kind: "docker",
    containerId: "31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30",
  },
  "docker-systemd-v1-centos.cgroup": {
    kind: "docker",
    containerId: "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d",
  },
  "docker-v2-cgroupns.cgroup": {
    kind: "docker",
    containerId: "1f1d6e2d4940ddac13abd421a2617992bf89f0e0f9a902ed58278c5f843e9ae7",
  },
  "docker-in-docker-rancheros-v1.cgroup": {
    kind: "docker",
    containerId: "ec08435e04266c5ba381fccbb829f626d11d8ddf5f8f547263c7a2d79ab4787a",
  },
  "docker-v1-hybrid-containerd-unit.cgroup": {
    kind: "docker",
    containerId: "a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81",
  },
  "k8s-cgroupfs-v1-docker-besteffort.cgroup": {
    kind: "kubernetes",
    podUid: "74ba62da-1a3d-11e7-bb11-080027cb0e22",
    qos: "besteffort",
    containerId: "cb1eadb7abe3a6545e9856411207073277838e1bdc003337c2f8685faeedc32c",
  },
  "k8s-cgroupfs-v1-containerd-1.2.cgroup": {
    kind: "kubernetes",
    podUid: "a36d0c1d-0b26-4451-8d80-9c195e004afa",
    qos: "besteffort",
    containerId: "5dd96d5394ca930a854a390ea46f7515a8bc930123eb3251ba20f2708a38fc61",
  },
  "k8s-systemd-v1-dockershim-besteffort.cgroup": {
    kind: "kubernetes",
    podUid: "045b1e35-7f13-11e7-ac42-0050568ffca0",
    qos: "besteffort",
    containerId: "b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70",
    runtime: "docker",
  },
  "k8s-systemd-hybrid-cri-containerd-bottlerocket.cgroup": {
    kind: "kubernetes",
    podUid: "dd1bf9d1-241d-47f5-8e25-12de83135812",
    qos: "besteffort",
    containerId: "f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830",
    runtime: "containerd",
  },
  "k8s-systemd-v1-crio-1.19-besteffort.cgroup": {
    kind: "kubernetes",
    podUid: "8ca306fa-3c03-47fa-97dd-19979c345572",
    qos: "besteffort",
    containerId: "d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607",
    runtime: "cri-o",
  },
  "k8s-systemd-v1-crio-1.17-burstable-static-pod.cgroup": {
    kind: "kubernetes",
    podUid: "487a0dc6dccaeefbcfedba7a7ce1ca18",
    qos: "burstable",
    containerId: "7a1fd6fe8cdfbd44dc78c4cc85dad7031eaab4365801684cad0aabdeaf863f9e",
    runtime: "cri-o",
  },
  "k8s-systemd-v1-containerd-1.4-colon.cgroup": {
    kind: "kubernetes",
    podUid: "2105e389-7471-476e-a50f-6074cef29bbd",
    qos: "besteffort",
    containerId: "d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e",
    runtime: "containerd",
  },
  "k8s-systemd-v2-dockershim-cgroupns.cgroup": {
    kind: "kubernetes",
    podUid: "fd698699-eabf-4c23-92ef-cf0bbdb78261",
    qos: "besteffort",
    containerId: "2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f",
    runtime: "docker",
  },
  "host-root-v1.cgroup": { kind: "none" },
  "user-session-v1-dd-trace.cgroup": { kind: "user-session", uid: 0, session: "14" },
  "user-session-hybrid-systemd-232.cgroup": { kind: "user-session", uid: 1000, session: "1" },
  "user-session-v1-nsenter-old-systemd.cgroup": { kind: "user-session", uid: 1000, session: "c2" },
  "systemd-service-v2-nginx.cgroup": { kind: "systemd-unit", unit: "nginx.service" },
  "slurm-v1-ex3-slurm21.cgroup": { kind: "slurm", jobId: "748468", stepId: "0", uid: 7319 },
  "slurm-v2-fox.cgroup": { kind: "slurm", jobId: "1392969", stepId: "0" },
  "slurm-v1-step-interactive-sonar.path": {
    kind: "slurm",
    jobId: "280678",
    stepId: "interactive",
    uid: 2101171,
  },
  "slurm-v1-rstudio-13690.path": { kind: "slurm", jobId: "13759490", stepId: "batch", uid: 2687 },
  "slurm-v2-multi-slurmd-enroot-169.path": { kind: "slurm", jobId: "4749", stepId: "0" },
};

const files = readdirSync(DIR).filter((f) => f.endsWith(".cgroup") || f.endsWith(".path"));

describe("real /proc/PID/cgroup files", () => {
  it("has an expectation for every fixture and a fixture for every expectation", () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(files.length).toBeGreaterThanOrEqual(23);
  });

  it.each(files)("%s", (file) => {
    const text = readFileSync(join(DIR, file), "utf8");
    const got = file.endsWith(".path") ? workloadFromPath(text.trim()) : workloadFromCgroup(text);
    expect(got).toEqual(EXPECTED[file]);
  });
});

describe("cgroup layouts the fixtures lack", () => {
  it.each<[string, Workload]>([
    [
      "0::/kubepods.slice/kubepods-pod1a2b3c4d_0000_4000_8000_0123456789ab.slice/cri-containerd-" +
        "a".repeat(64) +
        ".scope",
      {
        kind: "kubernetes",
        podUid: "1a2b3c4d-0000-4000-8000-0123456789ab",
        qos: "guaranteed",
        containerId: "a".repeat(64),
        runtime: "containerd",
      },
    ],
    [
      "0::/system.slice/slurmstepd.scope/job_88123/step_0/user/task_0",
      { kind: "slurm", jobId: "88123", stepId: "0" },
    ],
    [
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
      { kind: "user-session", uid: 1000 },
    ],
    ["0::/system.slice/systemd-udevd.service/udev", { kind: "systemd-unit", unit: "systemd-udevd.service" }],
    ["0::/", { kind: "none" }],
  ])("%s", (text, expected) => {
    expect(workloadFromCgroup(text)).toEqual(expected);
  });
});

describe("robustness", () => {
  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        expect(() => workloadFromCgroup(text)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on cgroup-shaped lines of random segments", () => {
    const segment = fc.constantFrom(
      "kubepods",
      "kubepods.slice",
      "besteffort",
      "pod",
      "slurm",
      "uid_1",
      "job_",
      "step_0",
      "..",
      "docker",
      "user-1000.slice",
      "session-1.scope",
      "a.service",
      "crio-",
      ":",
      "_",
      "",
    );
    fc.assert(
      fc.property(fc.array(fc.array(segment, { maxLength: 8 }), { maxLength: 6 }), (lines) => {
        const text = lines.map((l, i) => `${i}::/${l.join("/")}`).join("\n");
        expect(() => workloadFromCgroup(text)).not.toThrow();
      }),
    );
  });
});
