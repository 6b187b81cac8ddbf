// deploy/kubernetes/ validated offline: every document against the Kubernetes API's OpenAPI
// schemas as the npm package kubernetes-models ships them (Kubernetes 1.27, validated with ajv),
// the ServiceMonitor against the Prometheus Operator's CRD schema
// (@kubernetes-models/prometheus-operator); a manifest with a wrong field must fail the same
// check. Then what no schema says: selectors that meet, the agent's broker URL naming the
// collector's Service, and both ConfigMaps' configs passing gputel's own config validation.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { DaemonSet, StatefulSet } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, Namespace, Service } from "kubernetes-models/v1";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kernelLogArgv, loadAgentConfig, sourceNames } from "../../agent/config.js";
import { hashPassword } from "../../collector/broker/password-hash.js";
import { loadCollectorConfig } from "../../collector/config.js";
import { ROOT } from "../helpers/cli.js";
import { type TypedValue, typecheckValues } from "../helpers/tsc.js";

type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/StatefulSet": StatefulSet,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const DIR = join(ROOT, "deploy/kubernetes");
const docs: (Doc & { file: string })[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map(String).join("; ")}`);
      return { ...(d.toJS() as Doc), file };
    }),
  );

function find(kind: string, name: string): Doc {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name}`);
  return doc;
}

/** The package's TypeScript type of a document: I<Kind> from <package>/<group>/<version>/<Kind>. */
function typedValue(doc: Doc, i: number): TypedValue {
  const base = doc.apiVersion.startsWith("monitoring.coreos.com/")
    ? "@kubernetes-models/prometheus-operator"
    : "kubernetes-models";
  return {
    name: `doc${i}-${doc.kind}`,
    type: `I${doc.kind}`,
    from: `${base}/${doc.apiVersion}/${doc.kind}`,
    value: doc,
  };
}

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

const scratch = mkdtempSync(join(tmpdir(), "gputel-k8s-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("Kubernetes manifests", () => {
  it("has the namespace, agent DaemonSet, collector StatefulSet, Services and ServiceMonitor", () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      "ConfigMap/gputel-agent",
      "ConfigMap/gputel-collector",
      "DaemonSet/gputel-agent",
      "Namespace/gputel",
      "NetworkPolicy/gputel-collector",
      "Service/gputel-collector",
      "Service/gputel-collector-headless",
      "ServiceMonitor/gputel-collector",
      "StatefulSet/gputel-collector",
    ]);
    for (const d of docs.filter((x) => x.kind !== "Namespace"))
      expect(d.metadata.namespace, d.metadata.name).toBe("gputel");
  });

  it("every document is valid against its API schema", () => {
    for (const doc of docs) expect(() => validate(doc), `${doc.file} ${doc.kind}`).not.toThrow();
  });

  // The JSON schemas allow unknown fields (as the API server does without strict field
  // validation); the same package's TypeScript types do not: a misspelt key is an error here.
  it("every document type-checks against the package's types (no unknown fields); a misspelt key does not", async () => {
    const plain = docs.map(({ file: _file, ...doc }) => doc as Doc);
    const good = await typecheckValues(plain.map(typedValue));
    expect(good.out).toBe("");
    expect(good.code).toBe(0);
    const ds = structuredClone(find("DaemonSet", "gputel-agent")) as Doc & {
      spec: { template: { spec: Record<string, unknown> } };
    };
    const { file: _file, ...bad } = ds as Doc & { file?: string };
    (
      bad as unknown as { spec: { template: { spec: Record<string, unknown> } } }
    ).spec.template.spec.runtimeClass = "nvidia";
    const wrong = await typecheckValues([typedValue(bad as Doc, 99)]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain("runtimeClass");
  }, 60_000);

  it("a wrong field type or a wrong endpoint fails the schema check", () => {
    const ds = structuredClone(find("DaemonSet", "gputel-agent")) as Doc & {
      spec: { template: { spec: Record<string, unknown> } };
    };
    ds.spec.template.spec.terminationGracePeriodSeconds = "thirty";
    expect(() => validate(ds)).toThrow(/terminationGracePeriodSeconds/);
    const sm = structuredClone(find("ServiceMonitor", "gputel-collector")) as Doc & {
      spec: Record<string, unknown>;
    };
    sm.spec.endpoints = [{ port: 8080 }];
    expect(() => validate(sm)).toThrow();
  });

  it("the agent: NVIDIA runtime, every GPU without requesting one, kernel log, hostPath spool", () => {
    const spec = (find("DaemonSet", "gputel-agent") as unknown as { spec: { template: { spec: PodSpec } } })
      .spec.template.spec;
    expect(spec.runtimeClassName).toBe("nvidia");
    const c = spec.containers[0];
    if (!c) throw new Error("no container");
    expect(c.env).toContainEqual({ name: "NVIDIA_VISIBLE_DEVICES", value: "all" });
    expect(c.env).toContainEqual({
      name: "GPUTEL_HOST",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    expect(JSON.stringify(c.resources ?? {})).not.toContain("nvidia.com/gpu");
    const volumes = Object.fromEntries(spec.volumes.map((v) => [v.name, v]));
    expect(volumes.kmsg?.hostPath).toEqual({ path: "/dev/kmsg", type: "CharDevice" });
    expect(volumes.spool?.hostPath?.path).toBe("/var/lib/gputel-agent");
    const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m]));
    expect(mounts.kmsg?.readOnly).toBe(true);
    expect(c.securityContext?.capabilities?.add).toEqual(["SYSLOG"]);
  });

  it("the agent reads the kernel log the DaemonSet mounts: kernel-log runs, on /dev/kmsg, not the journal", () => {
    const spec = (find("DaemonSet", "gputel-agent") as unknown as { spec: { template: { spec: PodSpec } } })
      .spec.template.spec;
    const kmsg = spec.containers[0]?.volumeMounts.find((m) => m.name === "kmsg")?.mountPath;
    expect(kmsg).toBe("/dev/kmsg");
    const agentText =
      (find("ConfigMap", "gputel-agent") as unknown as { data: Record<string, string> }).data["agent.yaml"] ??
      "";
    const agentFile = join(scratch, "agent-kernel-log.yaml");
    writeFileSync(agentFile, agentText);
    const agent = loadAgentConfig({ file: agentFile, env: {}, hostname: "gpu-node-1", touchFiles: false });
    if (!agent.ok) throw new Error(JSON.stringify(agent.problems));
    // The pod has the device and CAP_SYSLOG for Xid events: the source that reads them must run.
    expect(sourceNames(agent.config)).toContain("kernel-log");
    // The container has no journal (journalctl, the default reader, would find nothing).
    const argv = kernelLogArgv(agent.config);
    expect(argv[0]).not.toBe("journalctl");
    expect(argv).toContain(kmsg);
  });

  it("selectors meet: Services → collector pods, ServiceMonitor → the Service's http port", () => {
    const sts = find("StatefulSet", "gputel-collector") as unknown as {
      spec: { serviceName: string; template: { metadata: { labels: Record<string, string> } } };
    };
    const podLabels = sts.spec.template.metadata.labels;
    expect(find("Service", sts.spec.serviceName)).toBeDefined();
    const svc = find("Service", "gputel-collector") as unknown as {
      spec: { selector: Record<string, string>; ports: { name: string }[] };
    };
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(podLabels[k]).toBe(v);
    const sm = find("ServiceMonitor", "gputel-collector") as unknown as {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
      expect(find("Service", "gputel-collector").metadata.labels?.[k]).toBe(v);
    expect(find("Service", "gputel-collector-headless").metadata.labels?.["gputel.io/headless"]).toBe("true");
    expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]?.port);
  });

  it("the ConfigMaps' configs pass gputel's config validation, and the agent names the collector's Service", async () => {
    const agentText =
      (find("ConfigMap", "gputel-agent") as unknown as { data: Record<string, string> }).data["agent.yaml"] ??
      "";
    const agentFile = join(scratch, "agent.yaml");
    writeFileSync(agentFile, agentText);
    const agent = loadAgentConfig({ file: agentFile, env: {}, hostname: "gpu-node-1", touchFiles: false });
    if (!agent.ok) throw new Error(JSON.stringify(agent.problems));
    expect(new URL(agent.config.broker.url).hostname).toBe("gputel-collector.gputel.svc");

    const collectorText =
      (find("ConfigMap", "gputel-collector") as unknown as { data: Record<string, string> }).data[
        "collector.yaml"
      ] ?? "";
    const token = join(scratch, "api_token");
    writeFileSync(token, "a-token\n");
    const collectorFile = join(scratch, "collector.yaml");
    expect(collectorText).toContain("/etc/gputel/secrets/api_token");
    const users = join(scratch, "users");
    writeFileSync(users, `gpu-node-1:${await hashPassword("pw")}\n`, { mode: 0o600 });
    expect(collectorText).toContain("/etc/gputel/secrets/users");
    writeFileSync(
      collectorFile,
      collectorText
        .replace("/etc/gputel/secrets/api_token", token)
        .replace("/etc/gputel/secrets/users", users),
    );
    const collector = loadCollectorConfig({ file: collectorFile, env: {} });
    if (!collector.ok) throw new Error(JSON.stringify(collector.problems));
    expect(collector.config.http.listen).toBe("0.0.0.0:8080");
  });

  it("the README describes the collector's broker as its ConfigMap sets it: a users file, not anonymous", () => {
    const collectorText =
      (find("ConfigMap", "gputel-collector") as unknown as { data: Record<string, string> }).data[
        "collector.yaml"
      ] ?? "";
    expect(collectorText).toContain("users_file:");
    const readme = readFileSync(join(DIR, "README.md"), "utf8");
    const section = readme.split("## The collector StatefulSet")[1]?.split("\n## ")[0] ?? "";
    expect(section).toContain("users file");
    expect(section).not.toMatch(/anonymous/i);
  });
});

interface PodSpec {
  runtimeClassName?: string;
  containers: {
    env: unknown[];
    resources?: unknown;
    volumeMounts: { name: string; mountPath?: string; readOnly?: boolean }[];
    securityContext?: { capabilities?: { add?: string[] } };
  }[];
  volumes: { name: string; hostPath?: { path: string; type?: string } }[];
}
