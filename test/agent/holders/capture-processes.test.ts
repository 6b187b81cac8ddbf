// Every capture's `query-compute-apps` and `pmon` sections (idle and load), through the row
// parser and the pmon parser.
import { describe, expect, it } from "vitest";
import { parsePmon } from "../../../agent/holders/pmon.js";
import { parseComputeAppRows, parseComputeApps } from "../../../agent/sources/nvidia-smi/compute-apps.js";
import { captureFiles, readCapture, section } from "../nvidia-smi/capture.js";

const UUID = "GPU-00000000-0000-0000-0000-000000000000";
type Apps = [pid: number, name: string, mib: number][];
type Pmon = {
  samples: number;
  rows: number;
  idle: boolean;
  first: [pid: number, type: string, name: string, values: Record<string, number>][];
};

const EXPECTED: Record<string, { idle: Apps; load: Apps; pmonIdle: Pmon; pmonLoad: Pmon }> = {
  "linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt": {
    idle: [],
    load: [
      [5268, "ffmpeg", 370],
      [5267, "ffmpeg", 230],
    ],
    pmonIdle: {
      samples: 5,
      rows: 2,
      idle: false,
      first: [
        [1696, "G", "gnome-shell", {}],
        [4584, "G", "Xwayland", {}],
      ],
    },
    pmonLoad: {
      samples: 5,
      rows: 4,
      idle: false,
      first: [
        [1696, "G", "gnome-shell", {}],
        [4584, "G", "Xwayland", {}],
        [5267, "C", "ffmpeg", { sm: 7, mem: 3, enc: 99 }],
        [5268, "C", "ffmpeg", {}],
      ],
    },
  },
  "linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt": {
    idle: [[2165, "/usr/bin/kwin_wayland", 25]],
    load: [
      [2165, "/usr/bin/kwin_wayland", 25],
      [5022, "ffmpeg", 503],
      [5021, "ffmpeg", 360],
    ],
    pmonIdle: {
      samples: 5,
      rows: 5,
      idle: false,
      first: [
        [2165, "C+G", "kwin_wayland", {}],
        [2496, "G", "plasma-keyboard", {}],
        [2620, "G", "Xwayland", {}],
        [2954, "G", "plasmashell", {}],
        [3527, "G", "xwaylandvideobr", {}],
      ],
    },
    pmonLoad: {
      samples: 5,
      rows: 7,
      idle: false,
      first: [
        [2165, "C+G", "kwin_wayland", { dec: 0 }],
        [2496, "G", "plasma-keyboard", {}],
        [2620, "G", "Xwayland", {}],
        [2954, "G", "plasmashell", {}],
        [3527, "G", "xwaylandvideobr", {}],
        [5021, "C", "ffmpeg", { sm: 0, mem: 0, enc: 15 }],
        [5022, "C", "ffmpeg", { sm: 5, mem: 1, enc: 54 }],
      ],
    },
  },
  "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt": {
    idle: [],
    load: [
      [11327, "/root/tools/memhog", 2566],
      [11328, "/root/tools/memhog", 1542],
      [11345, "./gpu_burn", 15690],
    ],
    pmonIdle: { samples: 5, rows: 0, idle: true, first: [] },
    pmonLoad: {
      samples: 5,
      rows: 3,
      idle: false,
      first: [
        [11327, "C", "memhog", {}],
        [11328, "C", "memhog", {}],
        [11345, "C", "gpu_burn", { sm: 99, mem: 10 }],
      ],
    },
  },
  "linux-x86_64__nvidia-h100-mig__590.48.01.txt": {
    idle: [],
    load: [
      [21180, "/root/tools/memhog", 2296],
      [21181, "/root/tools/memhog", 1272],
      [21198, "./gpu_burn", 7484],
    ],
    pmonIdle: { samples: 5, rows: 0, idle: true, first: [] },
    // Under MIG pmon samples nothing per process: every value is `-`, even for gpu_burn.
    pmonLoad: {
      samples: 5,
      rows: 3,
      idle: false,
      first: [
        [21180, "C", "memhog", {}],
        [21181, "C", "memhog", {}],
        [21198, "C", "gpu_burn", {}],
      ],
    },
  },
  "linux-x86_64__nvidia-l40s__595.80.txt": {
    idle: [],
    load: [
      [20037, "ffmpeg", 538],
      [20038, "ffmpeg", 681],
    ],
    pmonIdle: { samples: 5, rows: 0, idle: true, first: [] },
    pmonLoad: {
      samples: 5,
      rows: 2,
      idle: false,
      first: [
        [20037, "C", "ffmpeg", { sm: 2, mem: 0, enc: 24 }],
        [20038, "C", "ffmpeg", { sm: 6, mem: 0, enc: 40 }],
      ],
    },
  },
};

describe.each(captureFiles())("%s", (file) => {
  const expected = EXPECTED[file];
  const sections = readCapture(file);

  it("has expectations", () => {
    expect(expected).toBeDefined();
  });

  it.each(["idle", "load"] as const)(
    "query-compute-apps (%s): one row per process, count derived",
    (phase) => {
      const out = section(sections, phase, "query-compute-apps").output;
      const parsed = parseComputeAppRows(out);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok || !expected) return;
      expect(parsed.rows.map((r) => [r.pid, r.name, r.usedMemoryMib])).toEqual(expected[phase]);
      expect(new Set(parsed.rows.map((r) => r.gpuUuid))).toEqual(new Set(parsed.rows.length ? [UUID] : []));
      const counted = parseComputeApps(out);
      const mib = expected[phase].reduce((sum, [, , m]) => sum + m, 0);
      expect(counted.ok && counted.byUuid.get(UUID)).toEqual(
        expected[phase].length ? { processes: expected[phase].length, memoryMib: mib } : undefined,
      );
    },
  );

  it.each(["idle", "load"] as const)("pmon (%s)", (phase) => {
    const want = phase === "idle" ? expected?.pmonIdle : expected?.pmonLoad;
    const parsed = parsePmon(section(sections, phase, "pmon").output);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.samples).toHaveLength(want?.samples ?? -1);
    for (const sample of parsed.samples) {
      expect(sample.rows).toHaveLength(want?.rows ?? -1);
      expect(sample.idleGpus).toEqual(want?.idle ? [0] : []);
    }
    const first = parsed.samples[0]?.rows ?? [];
    expect(first.map((r) => [r.pid, r.type, r.name, r.values])).toEqual(want?.first);
    for (const row of first) {
      expect(row.gpuIndex).toBe(0);
      // Every utilization column the header has is either a value or not sampled.
      expect([...Object.keys(row.values), ...row.notSampled].sort()).toEqual(
        ["sm", "mem", "enc", "dec", "jpg", "ofa"].sort(),
      );
    }
  });
});

describe("query-compute-apps rows beyond the captures", () => {
  it("reads the noheader query with process names, [N/A] memory absent with its reason", () => {
    const parsed = parseComputeAppRows("GPU-a, 4121, python3, 41000\nMIG-b, 77, /opt/x, [N/A]\n", [
      "gpu_uuid",
      "pid",
      "process_name",
      "used_gpu_memory",
    ]);
    expect(parsed).toEqual({
      ok: true,
      rows: [
        { gpuUuid: "GPU-a", pid: 4121, name: "python3", usedMemoryMib: 41000 },
        { gpuUuid: "MIG-b", pid: 77, name: "/opt/x", memoryReason: 1 },
      ],
    });
  });

  it("joins a process name that itself holds ', '", () => {
    const parsed = parseComputeAppRows("GPU-a, 9, my, odd, name, 5", [
      "gpu_uuid",
      "pid",
      "process_name",
      "used_gpu_memory",
    ]);
    expect(parsed.ok && parsed.rows[0]?.name).toBe("my, odd, name");
  });

  it("refuses a line that is not a row, quoting it", () => {
    const parsed = parseComputeAppRows("GPU-a, notapid, 5");
    expect(parsed).toEqual({ ok: false, error: "unexpected line: GPU-a, notapid, 5" });
  });
});

describe("pmon beyond the captures", () => {
  it("reads `-s um` (fb and ccpm first), names with spaces, and a repeated header", () => {
    const text = [
      "# gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command ",
      "# Idx           #    C/G     MB     MB      %      %      %      %      %      %    name ",
      "    0       4242     C   8123      0     87     30      -      -      -      -    my job         ",
      "    1          -     -      -      -      -      -      -      -      -      -    -              ",
      "# gpu         pid   type     fb   ccpm     sm    mem    enc    dec    jpg    ofa    command ",
      "# Idx           #    C/G     MB     MB      %      %      %      %      %      %    name ",
      "    0       4242     C   8200      0     90     31      -      -      -      -    my job         ",
    ].join("\n");
    const parsed = parsePmon(text);
    expect(parsed.ok && parsed.samples).toEqual([
      {
        rows: [
          {
            gpuIndex: 0,
            pid: 4242,
            type: "C",
            name: "my job",
            values: { sm: 87, mem: 30, fb: 8123, ccpm: 0 },
            notSampled: ["enc", "dec", "jpg", "ofa"],
          },
        ],
        idleGpus: [1],
      },
      {
        rows: [
          {
            gpuIndex: 0,
            pid: 4242,
            type: "C",
            name: "my job",
            values: { sm: 90, mem: 31, fb: 8200, ccpm: 0 },
            notSampled: ["enc", "dec", "jpg", "ofa"],
          },
        ],
        idleGpus: [],
      },
    ]);
  });

  it("refuses output without a header, quoting the tool's own error line when there is one", () => {
    expect(parsePmon("    0   12  C  1  2  x")).toEqual({
      ok: false,
      error: "pmon: no header before: 0   12  C  1  2  x",
    });
    expect(parsePmon("Failed to initialize NVML: Driver/library version mismatch\n")).toEqual({
      ok: false,
      error: "Failed to initialize NVML: Driver/library version mismatch",
    });
  });
});
