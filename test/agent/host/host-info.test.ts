// The host facts sent with the inventory, read through systeminformation's own modules for the OS,
// the CPU and memory only: its index would load all ~30 of them (about 2 MB of the agent).
import { createRequire } from "node:module";
import { hostname, release, totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { SystemInformationHost } from "../../../agent/host/host-source.js";

describe("SystemInformationHost.info", () => {
  it("reads this machine's hostname, kernel, CPU and memory", async () => {
    const info = await new SystemInformationHost().info();
    expect(info.hostname).toBe(hostname());
    expect(info.kernel).toBe(release());
    expect(info.memory_total_bytes).toBe(totalmem());
    expect(info.cpu_cores).toBeGreaterThan(0);
    expect(info.cpu_model).toMatch(/\S/);
    expect(info.os).toMatch(/\S/);
  });

  it("loads only the systeminformation modules it uses", async () => {
    await new SystemInformationHost().info();
    const loaded = Object.keys(createRequire(import.meta.url).cache)
      .map((path) => /systeminformation\/lib\/([^/]+)\.js$/.exec(path)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
    expect(loaded).toEqual(expect.arrayContaining(["cpu", "memory", "osinfo", "util"]));
    // osInfo itself loads network.js when an interface's MAC is masked (loopback's is 00:…:00).
    expect(loaded.filter((name) => !["cpu", "memory", "osinfo", "util", "network"].includes(name))).toEqual(
      [],
    );
  });
});
