import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../agent/config.js";
import { agentInstall } from "../../agent/install-spec.js";
import { collectorInstall } from "../../collector/install-spec.js";
import { installCommand, uninstallCommand } from "../../shared/install/command.js";

function io(uid = 0) {
  const out = { stdout: "", stderr: "", ran: [] as string[][] };
  return {
    out,
    io: {
      uid,
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
      // Under --root no command may run: record any attempt so the test can fail on it.
      run: (argv: string[]) => {
        out.ran.push(argv);
        return 0;
      },
    },
  };
}

function fixture() {
  const root = mkdtempSync(join(tmpdir(), "gputel-root-"));
  const secret = join(mkdtempSync(join(tmpdir(), "gputel-secret-")), "pw");
  writeFileSync(secret, "agent-pw\n");
  return { root, secret };
}

const AGENT_FLAGS = [
  "--broker",
  "mqtts://mqtt.example.net:8883",
  "--site",
  "fra1",
  "--label",
  "rack=r12",
  "--label",
  "customer=acme",
  "--host",
  "gpu-01",
];

describe("gputel agent install", () => {
  it("--dry-run prints every step and changes nothing", async () => {
    const { root, secret } = fixture();
    const { out, io: x } = io();
    expect(
      await installCommand(
        agentInstall,
        [
          ...AGENT_FLAGS,
          "--password-file",
          secret,
          "--dry-run",
          "--root",
          root,
          "--bin",
          "/opt/gputel/bin/gputel",
        ],
        x,
      ),
    ).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        /^would run useradd --system .* gputel {3}\(unless id -u gputel succeeds\) {3}\[not run under --root\]$/,
      ),
      "would mkdir -p -m 0755 /etc/gputel",
      expect.stringMatching(
        /^would write \/etc\/systemd\/system\/gputel-agent\.service \(mode 0644, \d+ lines\)$/,
      ),
      expect.stringMatching(/^would write \/etc\/gputel\/agent\.yaml \(mode 0640, \d+ lines\)$/),
      "would run chown root:gputel /etc/gputel/agent.yaml   [not run under --root]",
      "would mkdir -p -m 0700 /etc/gputel/credentials",
      "would write /etc/gputel/credentials/agent.mqtt_password (mode 0600, secret)",
      "would mkdir -p -m 0755 /etc/systemd/system/gputel-agent.service.d",
      expect.stringMatching(
        /^would write \/etc\/systemd\/system\/gputel-agent\.service\.d\/credentials\.conf/,
      ),
      "would run systemctl daemon-reload   [not run under --root]",
      "would run systemctl enable gputel-agent.service   [not run under --root]",
      "would run systemctl restart gputel-agent.service   [not run under --root]",
    ]);
    expect(out.stdout).not.toContain("agent-pw");
    expect(existsSync(join(root, "etc"))).toBe(false);
    expect(out.ran).toEqual([]);
  });

  it("writes the unit, a valid config and the credential below --root; commands are printed, not run", async () => {
    const { root, secret } = fixture();
    const { out, io: x } = io();
    expect(
      await installCommand(
        agentInstall,
        [...AGENT_FLAGS, "--password-file", secret, "--root", root, "--bin", "/opt/gputel/bin/gputel"],
        x,
      ),
    ).toBe(0);
    expect(out.ran).toEqual([]);
    expect(out.stdout).toContain("skip run systemctl daemon-reload   [not run under --root]");
    const unit = readFileSync(join(root, "etc/systemd/system/gputel-agent.service"), "utf8");
    expect(unit).toContain("\nExecStart=/opt/gputel/bin/gputel agent --config /etc/gputel/agent.yaml\n");
    const configFile = join(root, "etc/gputel/agent.yaml");
    expect(statSync(configFile).mode & 0o777).toBe(0o640);
    const result = loadAgentConfig({ file: configFile, env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config).toMatchObject({
      host: "gpu-01",
      site: "fra1",
      labels: { rack: "r12", customer: "acme" },
      broker: { url: "mqtts://mqtt.example.net:8883" },
    });
    const credential = join(root, "etc/gputel/credentials/agent.mqtt_password");
    expect(readFileSync(credential, "utf8")).toBe("agent-pw\n");
    expect(statSync(credential).mode & 0o777).toBe(0o600);
    expect(
      readFileSync(join(root, "etc/systemd/system/gputel-agent.service.d/credentials.conf"), "utf8"),
    ).toContain("\nLoadCredential=mqtt_password:/etc/gputel/credentials/agent.mqtt_password\n");
  });

  it("keeps an existing config unless --force", async () => {
    const { root } = fixture();
    mkdirSync(join(root, "etc/gputel"), { recursive: true });
    writeFileSync(join(root, "etc/gputel/agent.yaml"), "site: mine\n");
    const { out, io: x } = io();
    expect(await installCommand(agentInstall, ["--site", "other", "--root", root], x)).toBe(0);
    expect(out.stdout).toContain("keep /etc/gputel/agent.yaml");
    expect(readFileSync(join(root, "etc/gputel/agent.yaml"), "utf8")).toBe("site: mine\n");
    expect(await installCommand(agentInstall, ["--site", "other", "--root", root, "--force"], io().io)).toBe(
      0,
    );
    expect(readFileSync(join(root, "etc/gputel/agent.yaml"), "utf8")).toContain("site: other");
  });

  it("refuses bad flags with every problem (78), a password on the command line, and non-root runs", async () => {
    const { root } = fixture();
    const bad = io();
    expect(
      await installCommand(
        agentInstall,
        ["--broker", "http://x", "--interval", "fast", "--root", root],
        bad.io,
      ),
    ).toBe(78);
    expect(bad.out.stderr).toContain("broker.url: must be a mqtt:// or mqtts:// URL");
    expect(bad.out.stderr).toContain('interval: "fast" is not a duration');
    expect(existsSync(join(root, "etc"))).toBe(false);
    const password = io();
    expect(await installCommand(agentInstall, ["--password", "secret", "--root", root], password.io)).toBe(
      64,
    );
    expect(password.out.stderr).toContain("unknown argument '--password'");
    expect(await installCommand(agentInstall, [], io(1000).io)).toBe(77);
  });
});

describe("gputel collector install / uninstall", () => {
  it("accepts a token for a non-loopback API from a file", async () => {
    const { root, secret } = fixture();
    const { io: x, out } = io();
    expect(
      await installCommand(
        collectorInstall,
        ["--http-listen", "0.0.0.0:8080", "--token-file", secret, "--root", root],
        x,
      ),
    ).toBe(0);
    expect(out.stderr).toBe("");
    expect(existsSync(join(root, "etc/gputel/credentials/collector.api_token"))).toBe(true);
    const without = io();
    expect(
      await installCommand(collectorInstall, ["--http-listen", "0.0.0.0:8080", "--root", root], without.io),
    ).toBe(78);
    expect(without.out.stderr).toContain("http.token: is required");
  });

  it("uninstall removes the unit and keeps config and data; --purge removes them too", async () => {
    const { root } = fixture();
    expect(await installCommand(collectorInstall, ["--root", root], io().io)).toBe(0);
    mkdirSync(join(root, "var/lib/gputel-collector"), { recursive: true });
    expect(await uninstallCommand(collectorInstall, ["--root", root], io().io)).toBe(0);
    expect(existsSync(join(root, "etc/systemd/system/gputel-collector.service"))).toBe(false);
    expect(existsSync(join(root, "etc/gputel/collector.yaml"))).toBe(true);
    expect(existsSync(join(root, "var/lib/gputel-collector"))).toBe(true);
    const purge = io();
    expect(await uninstallCommand(collectorInstall, ["--root", root, "--purge"], purge.io)).toBe(0);
    expect(existsSync(join(root, "etc/gputel/collector.yaml"))).toBe(false);
    expect(existsSync(join(root, "var/lib/gputel-collector"))).toBe(false);
    expect(purge.out.stdout).toContain("skip run systemctl disable --now gputel-collector.service");
    expect(purge.out.stdout).toContain("skip run userdel gputel");
  });

  it("--purge keeps the shared user while the agent is still installed", async () => {
    const { root } = fixture();
    expect(await installCommand(agentInstall, ["--root", root], io().io)).toBe(0);
    const purge = io();
    expect(await uninstallCommand(collectorInstall, ["--root", root, "--purge", "--dry-run"], purge.io)).toBe(
      0,
    );
    expect(purge.out.stdout).not.toContain("userdel");
  });
});
