// systeminformation's index loads all of its ~30 modules (about 2 MB of the agent's memory); the
// agent needs three. Its package has no "exports" map, so the modules are importable one by one,
// but its types describe only the index: these give each module the index's own types.
declare module "systeminformation/lib/osinfo.js" {
  import type si from "systeminformation";
  export const osInfo: typeof si.osInfo;
}
declare module "systeminformation/lib/cpu.js" {
  import type si from "systeminformation";
  export const cpu: typeof si.cpu;
}
declare module "systeminformation/lib/memory.js" {
  import type si from "systeminformation";
  export const mem: typeof si.mem;
}
