// The replay property: for every capture and phase, mock-smi given the capture's own command
// prints exactly the capture's section, byte for byte.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSection, parseCapture } from "../../mock-smi/capture.js";
import { CAPTURE_DIR, CAPTURES, captureArgs, mockSmi, readCapture } from "./helpers.js";

const PHASES = ["idle", "load"] as const;

describe.each(CAPTURES)("replay %s", (file) => {
  const path = join(CAPTURE_DIR, file);
  const capture = parseCapture(readCapture(file));

  it.each(PHASES)(
    "%s: query-gpu with the capture's own arguments prints its CSV section exactly",
    async (phase) => {
      const section = findSection(capture, phase, "query-gpu");
      expect(section?.args).toMatch(/^--query-gpu=\S+ --format=csv$/);
      const result = await mockSmi([
        "--replay",
        path,
        "--phase",
        phase,
        "--",
        ...captureArgs(section?.args ?? ""),
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(section?.output);
    },
  );

  it.each(PHASES)("%s: query-compute-apps prints its section exactly", async (phase) => {
    const section = findSection(capture, phase, "query-compute-apps");
    const result = await mockSmi([
      "--replay",
      path,
      "--phase",
      phase,
      "--",
      ...captureArgs(section?.args ?? ""),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(section?.output);
  });

  it.each([
    ["-L", "list (-L)"],
    ["--version", "version"],
    ["--help-query-gpu", "help-query-gpu"],
    ["--help-query-compute-apps", "help-query-compute-apps"],
    ["-h", "help (-h)"],
  ])("%s prints the capture's section exactly", async (arg, name) => {
    const section = findSection(capture, "capabilities", name);
    expect(section?.output.length).toBeGreaterThan(0);
    for (const phase of PHASES) {
      const result = await mockSmi(["--replay", path, "--phase", phase, "--", arg]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(section?.output);
    }
  });
});

describe("replay subsets, spellings and errors", () => {
  const h100 = join(CAPTURE_DIR, "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt");
  const mig = join(CAPTURE_DIR, "linux-x86_64__nvidia-h100-mig__590.48.01.txt");

  it("answers a subset in the order asked, aliases under the capture's canonical names", async () => {
    const args = ["--query-gpu=power.draw,clocks.sm,clocks_throttle_reasons.active,name,memory.total"];
    const withUnits = await mockSmi(["--replay", h100, "--", ...args, "--format=csv"]);
    expect(withUnits.stdout).toBe(
      "power.draw [W], clocks.current.sm [MHz], clocks_event_reasons.active, name, memory.total [MiB]\n" +
        "69.85 W, 345 MHz, 0x0000000000000001, NVIDIA H100 80GB HBM3, 81559 MiB\n",
    );
    const bare = await mockSmi(["--replay", h100, "--", ...args, "--format=csv,noheader,nounits"]);
    expect(bare.stdout).toBe("69.85, 345, 0x0000000000000001, NVIDIA H100 80GB HBM3, 81559\n");
    const load = await mockSmi(["--replay", h100, "--phase", "load", "--", ...args, "--format=csv,nounits"]);
    expect(load.stdout.split("\n")[0]).toBe(
      "power.draw, clocks.current.sm, clocks_event_reasons.active, name, memory.total",
    );
    expect(load.stdout.split("\n")[1]).toMatch(/^631\.95, 1980, /);
  });

  it("keeps the capture's [N/A] spellings (utilization under MIG)", async () => {
    const r = await mockSmi([
      "--replay",
      mig,
      "--",
      "--query-gpu=utilization.gpu,mig.mode.current",
      "--format=csv,noheader,nounits",
    ]);
    expect(r.stdout).toBe("[N/A], Enabled\n");
  });

  it("rejects a field the capture's driver does not list, like the real tool", async () => {
    const r = await mockSmi([
      "--replay",
      h100,
      "--",
      "--query-gpu=index,clocks.applications.sm",
      "--format=csv",
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('Field "clocks.applications.sm" is not a valid field to query.\n\n');
  });

  it("selects GPUs with -i by index, UUID or bus id, and answers an unknown id like the real tool", async () => {
    const base = ["--replay", h100, "--", "--query-gpu=index", "--format=csv,noheader"];
    for (const id of ["0", "GPU-00000000-0000-0000-0000-000000000000", "00000000:00:09.0", "0000:00:09.0"]) {
      expect((await mockSmi([...base, "-i", id])).stdout).toBe("0\n");
    }
    const missing = await mockSmi([...base, "-i", "3"]);
    expect(missing).toMatchObject({ code: 6, stdout: "No devices were found\n" });
  });

  it("prints the current time as timestamp in loops and the capture's own in one shot", async () => {
    const oneShot = await mockSmi([
      "--replay",
      h100,
      "--",
      "--query-gpu=timestamp,index",
      "--format=csv,noheader",
    ]);
    expect(oneShot.stdout).toBe("2026/07/14 08:12:38.696, 0\n");
    let clock = new Date(2030, 0, 2, 3, 4, 5, 6).getTime();
    const controller = new AbortController();
    const loop = await mockSmi(
      ["--replay", h100, "--", "--query-gpu=timestamp,index", "--format=csv,noheader", "-lms", "250"],
      {
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
        signal: controller.signal,
        onWrite: (writes) => writes.length === 3 && controller.abort(),
      },
    );
    expect(loop.writes).toEqual([
      "2030/01/02 03:04:05.006, 0\n",
      "2030/01/02 03:04:05.256, 0\n",
      "2030/01/02 03:04:05.506, 0\n",
    ]);
  });

  it("answers commands it holds verbatim (-q, topo -m) and refuses what it cannot emulate", async () => {
    const capture = parseCapture(readCapture("linux-x86_64__nvidia-l40s__595.80.txt"));
    const path = join(CAPTURE_DIR, "linux-x86_64__nvidia-l40s__595.80.txt");
    const q = await mockSmi(["--replay", path, "--phase", "load", "--", "-q"]);
    expect(q.stdout).toBe(findSection(capture, "load", "query (-q)")?.output);
    const topo = await mockSmi(["--replay", path, "--", "topo", "-m"]);
    expect(topo.stdout).toBe(findSection(capture, "capabilities", "topo -m")?.output);
    const odd = await mockSmi(["--replay", path, "--", "--query-gpu=index"]);
    expect(odd.code).toBe(2);
    expect(odd.stdout).toMatch(/^Invalid combination of input arguments/);
  });
});
