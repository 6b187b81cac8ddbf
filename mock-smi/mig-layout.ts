// The MIG devices of a scenario GPU: where each profile of its `mig:` list sits on the GPU's
// eight memory slices, the GPU instance id that place has, and the device numbers the real tool
// prints. Pure.
//
// What the real outputs show, and this follows: a GPU instance of s slices starts at a multiple
// of s (one-slice profiles at 0..6, 2g at 0, 2 or 4, 3g at 0 or 4, 4g and 7g at 0), and its id is base(s) + start/s
// with bases 0 (8 slices), 1 (4), 3 (2) and 7 (1): the H100 MIG capture's 3g.40gb, 2g.20gb and two
// 1g.10gb are GPU instances 2, 3, 9 and 10 (3g at 4, 2g at 0, the 1g at 2 and 3), the A100 XML's
// four 1g.20gb are 3..6, and the seven 1g.5gb of dask-cuda#583 are 7..14 less one. Every compute
// instance is its whole GPU instance (id 0, as in every fixture), and devices are numbered in GPU
// instance order, as `-L` and `-q` number them in the capture.
import type { MigPreset, MigProfile } from "./models.js";

export interface MigDevice {
  /** Position in the scenario's `mig:` list (what a process's `mig_device` names). */
  listIndex: number;
  /** "Device N" of `-L`, `<index>` of `<mig_device>`. */
  deviceIndex: number;
  profile: string;
  gpuInstanceId: number;
  computeInstanceId: number;
  /** Compute slices: the profile name's leading number ("3g.40gb" → 3). */
  computeSlices: number;
  /** JPEG decoders (`jpg_count`): one per compute slice where the board has them. */
  jpegs: number;
  sizes: MigProfile;
}

const BASE_ID: Record<number, number> = { 8: 0, 4: 1, 2: 3, 1: 7 };

/** Where a GPU instance of this profile may start (memory slice numbers). */
function starts(sizes: MigProfile, computeSlices: number): number[] {
  if (sizes.slices === 1) return [0, 1, 2, 3, 4, 5, 6];
  // Two memory slices: 1g.20gb anywhere even, 2g only where two compute slices remain (of 7).
  if (sizes.slices === 2) return computeSlices === 1 ? [0, 2, 4, 6] : [0, 2, 4];
  if (sizes.slices === 4) return computeSlices === 3 ? [0, 4] : [0];
  return [0];
}

/**
 * The devices of `profiles` on a board of `preset`, or why they cannot be made. Each profile in
 * turn takes the lowest start that leaves room for the ones after it (a small backtracking
 * search: at most seven instances on eight slices).
 */
export function migLayout(preset: MigPreset, profiles: readonly string[]): MigDevice[] | { error: string } {
  const wanted: { profile: string; sizes: MigProfile; computeSlices: number }[] = [];
  for (const profile of profiles) {
    const sizes = preset.profiles[profile];
    if (sizes === undefined)
      return {
        error: `unknown MIG profile '${profile}' (known: ${Object.keys(preset.profiles).join(", ")})`,
      };
    wanted.push({ profile, sizes, computeSlices: Number.parseInt(profile, 10) });
  }
  const used = new Array<boolean>(8).fill(false);
  const chosen: number[] = [];
  const place = (k: number): boolean => {
    const w = wanted[k];
    if (w === undefined) return true;
    for (const start of starts(w.sizes, w.computeSlices)) {
      const span = Array.from({ length: w.sizes.slices }, (_, i) => start + i);
      if (span.some((s) => used[s])) continue;
      for (const s of span) used[s] = true;
      chosen[k] = start;
      if (place(k + 1)) return true;
      for (const s of span) used[s] = false;
    }
    return false;
  };
  if (!place(0)) return { error: `${profiles.join(", ")} do not fit on one GPU's eight memory slices` };
  const devices = wanted.map((w, listIndex) => ({
    listIndex,
    deviceIndex: 0,
    profile: w.profile,
    gpuInstanceId: (BASE_ID[w.sizes.slices] ?? 0) + (chosen[listIndex] ?? 0) / w.sizes.slices,
    computeInstanceId: 0,
    computeSlices: w.computeSlices,
    jpegs: preset.jpgPerSlice ? w.computeSlices : 0,
    sizes: w.sizes,
  }));
  const byId = [...devices].sort((a, b) => a.gpuInstanceId - b.gpuInstanceId);
  byId.forEach((d, i) => {
    d.deviceIndex = i;
  });
  return byId;
}

/** A MIG device's UUID, derived from its GPU's UUID and its place in the `mig:` list (stable). */
export function migUuidFor(gpuUuid: string, listIndex: number): string {
  return `MIG-${gpuUuid.slice(4, 12)}-${String(listIndex).padStart(4, "0")}${gpuUuid.slice(17)}`;
}
