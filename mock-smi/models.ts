// GPU model presets for scenarios. Limits, identifiers and clocks are the real ones from the
// fixtures: H100 and L40S from their captures' `-q`/CSV sections, A100 from a100-sxm4-v12.xml,
// RTX 4080 SUPER from its capture. Idle/load temperatures and power are typical values used when a
// scenario gives no pattern.

/** Drivers ≥ R535 report T.Limit-relative thresholds on some boards instead of absolute ones. */
export type Thresholds =
  | {
      kind: "absolute";
      shutdown: number;
      slowdown: number;
      maxOperating: number;
      target?: number;
      memoryMax?: number;
    }
  | {
      kind: "tlimit";
      tlimit: number;
      shutdown: number;
      slowdown: number;
      maxOperating: number;
      memoryMax?: number;
    };

/** One MIG GPU-instance profile: memory slices (of 8) it takes, its SMs, memory and BAR1 (MiB). */
export interface MigProfile {
  slices: number;
  sms: number;
  memoryMib: number;
  bar1Mib: number;
}

export interface MigPreset {
  /** By name ("3g.40gb"); the compute slices are the name's leading number. */
  profiles: Readonly<Record<string, MigProfile>>;
  /** Whether a MIG device gets a JPEG decoder per compute slice (H100: yes; A100 1g: none). */
  jpgPerSlice: boolean;
}

export interface ModelPreset {
  name: string;
  brand: string;
  architecture: string;
  vbios: string;
  computeCap: string;
  pciDeviceId: string;
  pciSubDeviceId: string;
  memoryTotalMib: number;
  memoryReservedMib: number;
  power: { default: number; min: number; max: number; idle: number; load: number };
  clocks: {
    idleSm: number;
    maxSm: number;
    idleMemory: number;
    maxMemory: number;
    idleVideo: number;
    maxVideo: number;
  };
  temperature: { idle: number; load: number };
  thresholds: Thresholds;
  /** HBM boards report a memory temperature this many degrees above the core; others print `N/A`. */
  hbmOffset: number | undefined;
  hasFan: boolean;
  ecc: boolean;
  /** The MIG profiles the board offers (undefined: no MIG). */
  mig: MigPreset | undefined;
  idlePstate: string;
  pcie: { gen: number; width: number };
  /** Datacenter boards report a serial; GeForce prints `[N/A]`. */
  hasSerial: boolean;
}

export const MODELS: readonly ModelPreset[] = [
  {
    name: "NVIDIA H100 80GB HBM3",
    brand: "NVIDIA",
    architecture: "Hopper",
    vbios: "96.00.A5.00.01",
    computeCap: "9.0",
    pciDeviceId: "0x233010DE",
    pciSubDeviceId: "0x16C110DE",
    memoryTotalMib: 81559,
    memoryReservedMib: 479,
    power: { default: 700, min: 200, max: 700, idle: 70, load: 640 },
    clocks: { idleSm: 345, maxSm: 1980, idleMemory: 2619, maxMemory: 2619, idleVideo: 765, maxVideo: 1545 },
    temperature: { idle: 41, load: 62 },
    // -q: GPU Shutdown/Slowdown/Max Operating T.Limit Temp -8/-2/0 C, Memory Max Operating T.Limit 0 C;
    // idle reads 41 C with 46 C of T.Limit headroom, so T.Limit sits at 87 C.
    thresholds: { kind: "tlimit", tlimit: 87, shutdown: -8, slowdown: -2, maxOperating: 0, memoryMax: 0 },
    hbmOffset: 7,
    hasFan: false,
    ecc: true,
    // MIG: 1g.10gb, 2g.20gb and 3g.40gb as the MIG capture's -q prints them (SMs, FB total,
    // BAR1); 1g.20gb, 4g.40gb and 7g.80gb (no real output among the fixtures) take NVIDIA's SM
    // counts and the memory of their slices.
    mig: {
      profiles: {
        "1g.10gb": { slices: 1, sms: 16, memoryMib: 9984, bar1Mib: 6184 },
        "1g.20gb": { slices: 2, sms: 16, memoryMib: 20096, bar1Mib: 12369 },
        "2g.20gb": { slices: 2, sms: 32, memoryMib: 20096, bar1Mib: 12369 },
        "3g.40gb": { slices: 4, sms: 60, memoryMib: 40448, bar1Mib: 24739 },
        "4g.40gb": { slices: 4, sms: 64, memoryMib: 40448, bar1Mib: 24739 },
        "7g.80gb": { slices: 8, sms: 132, memoryMib: 80896, bar1Mib: 49478 },
      },
      jpgPerSlice: true,
    },
    idlePstate: "P0",
    pcie: { gen: 5, width: 16 },
    hasSerial: true,
  },
  {
    name: "NVIDIA L40S",
    brand: "NVIDIA",
    architecture: "Ada Lovelace",
    vbios: "95.02.66.00.02",
    computeCap: "8.9",
    pciDeviceId: "0x26B910DE",
    pciSubDeviceId: "0x185110DE",
    memoryTotalMib: 46068,
    memoryReservedMib: 609,
    power: { default: 350, min: 100, max: 350, idle: 36, load: 300 },
    clocks: { idleSm: 210, maxSm: 2520, idleMemory: 405, maxMemory: 9001, idleVideo: 795, maxVideo: 1965 },
    temperature: { idle: 34, load: 64 },
    // -q: -5/-2/0 C T.Limit thresholds; 63 C with 25 C headroom → T.Limit at 88 C.
    thresholds: { kind: "tlimit", tlimit: 88, shutdown: -5, slowdown: -2, maxOperating: 0 },
    hbmOffset: undefined,
    hasFan: false,
    ecc: true,
    mig: undefined,
    idlePstate: "P8",
    pcie: { gen: 4, width: 16 },
    hasSerial: true,
  },
  {
    name: "NVIDIA A100-SXM4-80GB",
    brand: "NVIDIA",
    architecture: "Ampere",
    vbios: "92.00.36.00.02",
    computeCap: "8.0",
    pciDeviceId: "0x20B210DE",
    pciSubDeviceId: "0x147F10DE",
    memoryTotalMib: 81920,
    memoryReservedMib: 869,
    power: { default: 500, min: 100, max: 500, idle: 62, load: 420 },
    clocks: { idleSm: 210, maxSm: 1410, idleMemory: 1593, maxMemory: 1593, idleVideo: 585, maxVideo: 1290 },
    temperature: { idle: 30, load: 66 },
    thresholds: { kind: "absolute", shutdown: 92, slowdown: 89, maxOperating: 85, memoryMax: 95 },
    hbmOffset: 6,
    hasFan: false,
    ecc: true,
    // MIG: 1g.20gb as a100-sxm4-v12.xml prints it (14 SMs, 19968 MiB, BAR1 32767 MiB); the
    // other profiles take NVIDIA's SM counts and the memory of their slices.
    mig: {
      profiles: {
        "1g.10gb": { slices: 1, sms: 14, memoryMib: 9984, bar1Mib: 32767 },
        "1g.20gb": { slices: 2, sms: 14, memoryMib: 19968, bar1Mib: 32767 },
        "2g.20gb": { slices: 2, sms: 28, memoryMib: 19968, bar1Mib: 32767 },
        "3g.40gb": { slices: 4, sms: 42, memoryMib: 39936, bar1Mib: 32767 },
        "4g.40gb": { slices: 4, sms: 56, memoryMib: 39936, bar1Mib: 32767 },
        "7g.80gb": { slices: 8, sms: 98, memoryMib: 79872, bar1Mib: 32767 },
      },
      jpgPerSlice: false,
    },
    idlePstate: "P0",
    pcie: { gen: 4, width: 16 },
    hasSerial: true,
  },
  {
    name: "NVIDIA GeForce RTX 4080 SUPER",
    brand: "GeForce",
    architecture: "Ada Lovelace",
    vbios: "95.03.44.00.B2",
    computeCap: "8.9",
    pciDeviceId: "0x270210DE",
    pciSubDeviceId: "0x51101462",
    memoryTotalMib: 16376,
    memoryReservedMib: 434,
    power: { default: 320, min: 150, max: 400, idle: 26, load: 290 },
    clocks: { idleSm: 210, maxSm: 3165, idleMemory: 405, maxMemory: 11501, idleVideo: 1185, maxVideo: 2145 },
    temperature: { idle: 36, load: 72 },
    thresholds: { kind: "absolute", shutdown: 101, slowdown: 96, maxOperating: 90, target: 84 },
    hbmOffset: undefined,
    hasFan: true,
    ecc: false,
    mig: undefined,
    idlePstate: "P8",
    pcie: { gen: 4, width: 16 },
    hasSerial: false,
  },
];

export function findModel(name: string): ModelPreset | undefined {
  return MODELS.find((m) => m.name.toLowerCase() === name.toLowerCase());
}

/** Absolute slowdown temperature (°C): the T.Limit boards slow down at T.Limit minus the threshold. */
export function slowdownCelsius(model: ModelPreset): number {
  const t = model.thresholds;
  return t.kind === "absolute" ? t.slowdown : t.tlimit - t.slowdown;
}

export function shutdownCelsius(model: ModelPreset): number {
  const t = model.thresholds;
  return t.kind === "absolute" ? t.shutdown : t.tlimit - t.shutdown;
}
