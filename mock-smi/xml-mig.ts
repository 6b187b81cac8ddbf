// `<mig_devices>` of `nvidia-smi -q -x`, in the layout of a100-sxm4-v12.xml (the one real
// document with MIG devices): "None" on a GPU without them. Pure.
import type { Node } from "./xml.js";

/** One `<mig_device>` (a100-sxm4-v12.xml's layout); memory values in MiB. */
export interface XmlMigDevice {
  index: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  sms: number;
  copyEngines: number;
  decoders: number;
  jpegs: number;
  memoryTotalMib: number;
  memoryUsedMib: number;
  bar1TotalMib: number;
}

/** The `<mig_devices>` element; none at all when `devices` is undefined (a source that cannot tell). */
export function migDeviceNodes(devices: readonly XmlMigDevice[] | undefined): Node[] {
  if (devices === undefined) return [];
  if (devices.length === 0) return [["mig_devices", { block: "None" }]];
  const mib = (n: number) => `${n} MiB`;
  return [
    [
      "mig_devices",
      devices.map(
        (d): Node => [
          "mig_device",
          [
            ["index", String(d.index)],
            ["gpu_instance_id", String(d.gpuInstanceId)],
            ["compute_instance_id", String(d.computeInstanceId)],
            [
              "device_attributes",
              [
                [
                  "shared",
                  [
                    ["multiprocessor_count", String(d.sms)],
                    ["copy_engine_count", String(d.copyEngines)],
                    ["encoder_count", "0"],
                    ["decoder_count", String(d.decoders)],
                    ["ofa_count", "0"],
                    ["jpg_count", String(d.jpegs)],
                  ],
                ],
              ],
            ],
            ["ecc_error_count", [["volatile_count", [["sram_uncorrectable", "0"]]]]],
            [
              "fb_memory_usage",
              [
                ["total", mib(d.memoryTotalMib)],
                ["reserved", mib(0)],
                ["used", mib(d.memoryUsedMib)],
                ["free", mib(d.memoryTotalMib - d.memoryUsedMib)],
              ],
            ],
            [
              "bar1_memory_usage",
              [
                ["total", mib(d.bar1TotalMib)],
                ["used", mib(0)],
                ["free", mib(d.bar1TotalMib)],
              ],
            ],
          ],
        ],
      ),
    ],
  ];
}
