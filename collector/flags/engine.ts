// FlagEngine: evaluates the rules as data arrives (ingest calls it after each committed batch,
// and with inventories and statuses), plus tick() for stale hosts, driven by the collector's timer.
//
// Time: GPU rules run on the frames' own timestamps (agent clock), so a replayed backlog raises
// and clears flags at the times they happened. A sample not newer than the newest already
// evaluated for its GPU (a duplicate, or a frame delivered out of order) is counted and skipped:
// evaluating it would move timers backwards and could reopen or close episodes out of order.
// Stale is about arrival (collector clock): any frame arriving, replayed or live, proves the
// host is talking, and stale is only ever raised by tick(), never retroactively from frames.
// Where collectors share the frames (sharedFrames), a collector judges stale only the hosts whose
// frames it receives (HostTrack.framesHere); the statuses of the others reach it too, their frames not.
import type { Logger } from "../../shared/logger.js";
import { silentLogger } from "../../shared/logger.js";
import {
  AgentState,
  GpuState,
  type IGpuInfo,
  type IGpuSample,
  type IInventory,
  type IStatus,
} from "../../shared/proto.js";
import type { ClaimEvent } from "../ingest/admission.js";
import type { ValidFrame } from "../ingest/validate.js";
import type { ValidEvent } from "../ingest/validate-event.js";
import { sameLabels } from "../usage/placement.js";
import { ClaimFlags } from "./claim-flags.js";
import { type GpuRules, type ResolvedFlagsConfig, rulesFor } from "./config.js";
import { FlagBook, type HolderLookup } from "./flag-book.js";
import {
  evaluateSample,
  type GpuTrack,
  newTrack,
  READING_KINDS,
  REMOVED_REASON,
  reconcile,
} from "./gpu-track.js";
import { HealthFlags } from "./health-flags.js";
import { type HostTrack, newHost, offlineFlag, staleFlag } from "./host-track.js";
import { errorSupersededByLost, lostStep } from "./rules/health.js";
import type { Transition } from "./rules/rule.js";

import type {
  Flag,
  FlagAck,
  FlagEpisode,
  FlagFilter,
  FlagKind,
  FlagListener,
  FlagRecords,
  FlagStart,
  FlagStartQuery,
  HistoryQuery,
  ParkedXid,
  ParkedXidRecords,
} from "./types.js";

export interface FlagEngineOptions {
  store: FlagRecords;
  config: ResolvedFlagsConfig;
  logger?: Logger;
  now?: () => number;
  /** Names an idle-held GPU's holder from the process sessions (collector/store/process-store.ts). */
  holders?: HolderLookup;
  /** Frames are split among collectors (broker.share_group): stale only for hosts with frames here. */
  sharedFrames?: boolean;
  /**
   * limits.gpu_move_hold: with sharedFrames, how long after a host came back online with no frame
   * here a collector that held its frames when it went offline still holds its GPUs for the flags
   * raised from events (holdsFrames). Default 10 minutes, the limit's default.
   */
  gpuMoveHoldMs?: number;
  /**
   * Where the Xids parked for hosts no member holds yet are kept across restarts (Store.parkedXids,
   * collector/store/parked-xids.ts); without it they are kept in memory only.
   */
  parkedXids?: ParkedXidRecords;
}

const DEFAULT_GPU_MOVE_HOLD_MS = 10 * 60_000;
/** Parked Xids kept at most (FlagEngine.park): an Xid storm of hosts held elsewhere stays bounded. */
const MAX_PARKED = 10_000;

export interface FlagEngineStats {
  samples: number;
  lateSamples: number;
  openFlags: number;
  gpus: number;
  hosts: number;
}

export class FlagEngine {
  private readonly book: FlagBook;
  private readonly claims: ClaimFlags;
  private readonly health: HealthFlags;
  private readonly gpus = new Map<string, GpuTrack>();
  private readonly hosts = new Map<string, HostTrack>();
  /** Thresholds per GPU track (see rulesOf): by object, so no key is built per sample. */
  private readonly rules = new WeakMap<GpuTrack, GpuRules>();
  /** Keys of the GPU tracks and names of the hosts whose state changed since the last save. */
  private readonly dirtyGpus = new Set<string>();
  private readonly dirtyHosts = new Set<string>();
  private readonly listeners = new Set<FlagListener>();
  private readonly log: Logger;
  private readonly now: () => number;
  /** Host → Xids of its GPUs that came while this member did not hold its frames (park). */
  private readonly parked = new Map<string, ParkedXid[]>();
  private parkedCount = 0;
  /** The parked Xids' copy in the database, kept in step with `parked` in each batch's transaction. */
  private readonly parkedRecords: ParkedXidRecords | undefined;
  private lastSaveMs = 0;
  private samples = 0;
  private lateSamples = 0;

  constructor(private readonly options: FlagEngineOptions) {
    this.book = new FlagBook(options.store, options.holders);
    this.claims = new ClaimFlags(this.book);
    this.health = new HealthFlags(this.book);
    this.log = (options.logger ?? silentLogger()).child({ component: "collector.flags" });
    this.now = options.now ?? Date.now;
    this.parkedRecords = options.parkedXids;
  }

  /** Loads open flags and rule timers. Host arrival clocks restart now: downtime is not staleness. */
  start(): void {
    const nowMs = this.now();
    const open = this.book.load();
    for (const [key, json] of this.options.store.loadRuleStates()) {
      const state = JSON.parse(json) as GpuTrack | HostTrack;
      if (key.startsWith("gpu:")) this.gpus.set(key.slice(4), state as GpuTrack);
      else {
        const host = state as Partial<HostTrack> & HostTrack;
        // States saved before framesHere existed: GPUs seen in frames mean frames came here.
        const framesHere = host.framesHere ?? host.seen.length > 0;
        this.hosts.set(key.slice(5), {
          ...host,
          framesHere,
          heldAtOffline: host.heldAtOffline ?? false,
          backOnlineMs: host.backOnlineMs ?? null,
          lastArrivalMs: nowMs,
        });
      }
    }
    const fromFlags = new Set<string>();
    for (const flag of open) {
      if (flag.gpuUuid !== null && !this.gpus.has(gpuKey(flag.host, flag.gpuUuid))) {
        this.gpus.set(
          gpuKey(flag.host, flag.gpuUuid),
          newTrack(flag.host, flag.gpuUuid, flag.gpuIndex ?? 0, flag.site, flag.labels),
        );
      }
      if (!this.hosts.has(flag.host)) {
        fromFlags.add(flag.host);
        this.hosts.set(flag.host, { ...newHost(flag.host, flag.site, flag.labels), lastArrivalMs: nowMs });
      }
      // A host known from its open flags only: any of them but offline came from frames received here.
      const host = this.hosts.get(flag.host);
      if (host && fromFlags.has(flag.host) && flag.kind !== "offline") host.framesHere = true;
    }
    for (const track of this.gpus.values())
      reconcile(track, (kind) => this.book.get(track.host, track.uuid, kind));
    this.loadParked(nowMs);
    this.lastSaveMs = nowMs;
    this.log.info(
      { openFlags: open.length, gpus: this.gpus.size, hosts: this.hosts.size, parkedXids: this.parkedCount },
      "Flags loaded",
    );
  }

  /**
   * The collector can receive frames again (its broker listens or its subscription is up): every
   * host's arrival clock restarts now. Silence while the collector could not receive, however
   * long its start took, is not the hosts' staleness (issue 18); a host still silent
   * stale_intervals after this is stale as usual.
   */
  receiving(nowMs: number = this.now()): void {
    for (const host of this.hosts.values()) host.lastArrivalMs = Math.max(host.lastArrivalMs, nowMs);
    // Nor is it quiet for the flags that close after a quiet spell (claims, Xids).
    this.claims.receiving(nowMs);
    this.health.receiving(nowMs);
  }

  /** Saves every rule timer. */
  stop(): void {
    this.save(this.now(), true);
  }

  subscribe(listener: FlagListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Evaluates committed frames (oldest first). */
  onFrames(frames: readonly ValidFrame[], receivedAtMs: number = this.now()): void {
    this.batch(() => {
      for (const frame of frames) this.frame(frame, receivedAtMs);
    });
  }

  onInventory(inventory: IInventory, receivedAtMs: number = this.now()): void {
    const hostName = inventory.host ?? "";
    if (!hostName) return;
    this.batch(() => {
      const host = this.host(hostName, inventory.site ?? "", inventory.labels ?? {});
      const listed = Object.fromEntries((inventory.gpus ?? []).map((g) => [g.uuid ?? "", g]));
      // A failed or partial -q -x (its error says so) leaves GPUs out that the host still has.
      host.inventory = inventory.error ? { ...host.inventory, ...listed } : listed;
      this.dirtyHosts.add(hostName);
      // A GPU that fell off the bus is left out of -q -x too while the frames still report it
      // LOST: only one the frames no longer list either is gone.
      const flagged = new Set<string>();
      for (const f of this.book.all()) if (f.host === hostName && f.gpuUuid !== null) flagged.add(f.gpuUuid);
      this.endRemoved(
        host,
        flagged,
        (uuid) => this.reportedInFrames(hostName, uuid),
        receivedAtMs,
        receivedAtMs,
      );
    });
  }

  onStatus(status: IStatus, receivedAtMs: number = this.now()): void {
    const hostName = status.host ?? "";
    if (!hostName) return;
    this.batch(() => {
      const host = this.host(hostName);
      const at = Number(status.timestamp_ms ?? 0) || receivedAtMs;
      if (status.state === AgentState.AGENT_STATE_OFFLINE) {
        // Offline explains the silence: it replaces a stale flag. Once back, the host's frames may
        // go to another collector of a share group: it is this one's again when they arrive here.
        this.book.closeFlag(hostName, null, "stale", at, receivedAtMs);
        // Its GPUs' event flags stay this member's until its frames come back (holdsFrames).
        host.heldAtOffline = host.framesHere || this.heldSinceOffline(host, receivedAtMs);
        host.backOnlineMs = null;
        host.framesHere = false;
        this.book.openFlag(offlineFlag(host, status, at), receivedAtMs);
      } else if (status.state === AgentState.AGENT_STATE_ONLINE) {
        if (status.interval_ms) host.intervalMs = status.interval_ms;
        host.backOnlineMs ??= receivedAtMs;
        this.book.closeFlag(hostName, null, "offline", at, receivedAtMs);
      }
    });
  }

  /** GPU claims ingest refused (gpu-claim-conflict opens) or accepted as moves (it closes). */
  onClaims(events: readonly ClaimEvent[], receivedAtMs: number = this.now()): void {
    this.batch(() => this.claims.apply(events, (name) => this.hosts.get(name), receivedAtMs));
  }

  /** Process sets stored: the hosts' open idle-held flags name their holders anew. */
  onProcesses(hosts: readonly string[], receivedAtMs: number = this.now()): void {
    this.batch(() => {
      for (const host of new Set(hosts)) this.book.renameHolders(host, receivedAtMs);
    });
  }

  /**
   * Kernel-log events newly stored (oldest first): xid and reset-required flags. In a share group,
   * a GPU's Xid this member does not hold the frames for waits (parked) for the host's frames to
   * reach it (raiseParked); an Xid not mapped to a GPU is the host's, every member's.
   */
  onEvents(events: readonly ValidEvent[], receivedAtMs: number = this.now()): void {
    this.batch(() => {
      const held = events.filter((e) => {
        if (e.kind !== "xid" || e.gpuUuid === null || this.holdsFrames(e.host, receivedAtMs)) return true;
        this.park(e, receivedAtMs);
        return false;
      });
      this.health.onEvents(held, (name) => this.hosts.get(name), receivedAtMs);
    });
  }

  /**
   * Keeps an Xid of a GPU whose host's frames this member does not hold, for gpu_move_hold: a new
   * host's agent sends its kernel log from the boot before its first frame reaches any member, so
   * no member holds it yet. The member that first frame reaches raises it then (raiseParked); on
   * the others it lapses. At most MAX_PARKED (dropFirstParked). Kept in the database too, in the
   * batch's transaction, so a restart within gpu_move_hold still raises it (loadParked).
   */
  private park(e: ValidEvent, atMs: number): void {
    this.parkedRecords?.park(e, atMs);
    this.keepParked({ event: e, atMs });
  }

  private keepParked(p: ParkedXid): void {
    let list = this.parked.get(p.event.host);
    if (!list) {
      list = [];
      this.parked.set(p.event.host, list);
    }
    list.push(p);
    this.parkedCount += 1;
    if (this.parkedCount > MAX_PARKED) this.dropFirstParked();
  }

  /**
   * At start: the Xids parked before the restart that have not lapsed (those that did go from the
   * database), as they were before it. A host's first frame then raises them as if the collector
   * had run throughout.
   */
  private loadParked(nowMs: number): void {
    if (!this.parkedRecords) return;
    for (const p of this.parkedRecords.load(nowMs - this.gpuMoveHoldMs())) this.keepParked(p);
  }

  /**
   * The host's frames reached this member, which did not hold them: the Xids it parked for the
   * host within gpu_move_hold are raised now, each as at its arrival, before the frame's samples
   * are read (as a collector holding every frame raised them, then read the samples).
   */
  private raiseParked(hostName: string, nowMs: number): void {
    const list = this.parked.get(hostName);
    if (!list) return;
    this.parked.delete(hostName);
    this.parkedCount -= list.length;
    // In the frame's transaction, with the flags raised: a crash after it raises none twice.
    this.parkedRecords?.unpark(list.map((p) => p.event));
    for (const p of list) {
      if (nowMs - p.atMs > this.gpuMoveHoldMs()) continue;
      this.health.onEvents([p.event], (name) => this.hosts.get(name), p.atMs);
    }
  }

  /**
   * After a batch rolled back: the parked Xids as the database has them, so a frame's raise that
   * did not commit leaves them parked, and an Xid parked in it is not.
   */
  private reloadParked(): void {
    if (!this.parkedRecords) return;
    this.parked.clear();
    this.parkedCount = 0;
    try {
      this.loadParked(this.now());
    } catch (error) {
      this.log.error({ err: error }, "Reloading the parked Xids failed");
    }
  }

  /** Drops the parked Xids older than gpu_move_hold: no first frame of their hosts came here. */
  private expireParked(nowMs: number): void {
    const cutoff = nowMs - this.gpuMoveHoldMs();
    for (const [host, list] of this.parked) {
      const keep = list.filter((p) => p.atMs >= cutoff);
      if (keep.length === list.length) continue;
      this.parkedRecords?.unpark(list.filter((p) => p.atMs < cutoff).map((p) => p.event));
      this.parkedCount -= list.length - keep.length;
      if (keep.length === 0) this.parked.delete(host);
      else this.parked.set(host, keep);
    }
  }

  /** Over MAX_PARKED: the earliest Xid of the host parked for longest goes. */
  private dropFirstParked(): void {
    const first = this.parked.entries().next();
    if (first.done) return;
    const [host, list] = first.value;
    const dropped = list.shift();
    if (dropped) this.parkedRecords?.unpark([dropped.event]);
    this.parkedCount -= 1;
    if (list.length === 0) this.parked.delete(host);
  }

  private gpuMoveHoldMs(): number {
    return this.options.gpuMoveHoldMs ?? DEFAULT_GPU_MOVE_HOLD_MS;
  }

  /**
   * Whether this collector holds the host's frames, for its GPUs' flags raised from events (an Xid
   * comes from the agent of the host its GPU is on): always with the frames unshared. In a share
   * group, kernel-log events reach every member, but only the holder can close what needs the
   * GPU's readings to close (reset-required), and only one member may count a GPU's flags in the
   * lease parts' added counts; yet a hardware Xid must be flagged somewhere. A member cannot tell a
   * host whose frames moved to another member from one whose frames stopped, so the rule follows
   * the frames' last arrival, the mark `stale` is judged by: the host is this member's while its
   * frames come here (framesHere, which only the host's offline status clears, however long they
   * have stopped: this member calls the host stale then); from its offline status until its next
   * frame reaches any member, it stays the member's that held it at the offline (heldAtOffline);
   * and a host no member held yet (a new agent) is the member's its first frame reaches (park). In
   * a stable group (hash_clientid) that is one member at every instant, the one the frames come
   * back to. Only when the group changes does a host's last holder differ from its next
   * (docs/scaling.md).
   */
  private holdsFrames(hostName: string, nowMs: number): boolean {
    if (!this.options.sharedFrames) return true;
    const host = this.hosts.get(hostName);
    return host !== undefined && (host.framesHere || this.heldSinceOffline(host, nowMs));
  }

  /**
   * The host's frames were this member's when it went offline, and it has not yet had
   * limits.gpu_move_hold since it came back without a frame here: past that they went to another
   * member (the group changed while the host was away; the agents' frames come within seconds of
   * their online status), and this member no longer raises its GPUs' event flags.
   */
  private heldSinceOffline(host: HostTrack, nowMs: number): boolean {
    if (!host.heldAtOffline) return false;
    return host.backOnlineMs === null || nowMs - host.backOnlineMs <= this.gpuMoveHoldMs();
  }

  /**
   * An operator's acknowledgement of flag `id`: recorded, and an open xid or reset-required flag
   * closes (the operator vouches for the GPU). Undefined when no such flag exists.
   */
  acknowledge(
    id: number,
    note: string,
    nowMs: number = this.now(),
    actor = "",
  ): { flag: Flag; ack: FlagAck } | undefined {
    const store = this.options.store;
    if (!store.addAck || !store.byId) return undefined;
    const open = [...this.book.all()].find((f) => f.id === id);
    const flag = open ?? store.byId(id);
    if (!flag) return undefined;
    let result: { flag: Flag; ack: FlagAck } | undefined;
    this.batch(() => {
      const ack = store.addAck?.({
        flagId: flag.id,
        host: flag.host,
        gpuUuid: flag.gpuUuid,
        kind: flag.kind,
        note,
        atMs: nowMs,
        actor,
      });
      if (!ack) return;
      const closed = open ? this.health.acknowledge(open, note, nowMs) : undefined;
      result = { flag: closed ?? flag, ack };
    });
    return result;
  }

  /**
   * Opens stale flags for hosts silent for staleIntervals of their interval (collector clock).
   * With shared frames, only for hosts whose frames come here; another member judges the rest.
   */
  tick(nowMs: number = this.now()): void {
    this.batch(() => {
      for (const host of this.hosts.values()) {
        if (this.options.sharedFrames && !host.framesHere) {
          this.closeForeignStale(host, nowMs);
          continue;
        }
        if (host.intervalMs <= 0) continue;
        const limitMs = this.options.config.stale_intervals * host.intervalMs;
        if (nowMs - host.lastArrivalMs <= limitMs) continue;
        if (this.book.get(host.host, null, "offline") || this.book.get(host.host, null, "stale")) continue;
        this.book.openFlag(staleFlag(host, this.options.config.stale_intervals, limitMs), nowMs);
      }
      this.claims.expire(nowMs);
      this.health.expire(nowMs);
      this.expireParked(nowMs);
    });
    if (nowMs - this.lastSaveMs >= this.options.config.save_state_every_ms) this.save(nowMs, false);
  }

  openFlags(filter: FlagFilter = {}): Flag[] {
    return this.options.store.openFlags(filter);
  }

  history(query: HistoryQuery): Flag[] {
    return this.options.store.history(query);
  }

  flagStarts(query: FlagStartQuery): FlagStart[] {
    return this.options.store.flagStarts(query);
  }

  flagEpisodes(query: FlagStartQuery): FlagEpisode[] {
    return this.options.store.flagEpisodes(query);
  }

  /** Episodes per kind that the history query matches, without its limit. */
  historyCounts(query: HistoryQuery): Map<FlagKind, number> {
    return this.options.store.historyCounts(query);
  }

  stats(): FlagEngineStats {
    return {
      samples: this.samples,
      lateSamples: this.lateSamples,
      openFlags: this.book.size,
      gpus: this.gpus.size,
      hosts: this.hosts.size,
    };
  }

  /** A stale flag of a host whose frames go elsewhere (raised before sharedFrames was set) is not ours. */
  private closeForeignStale(host: HostTrack, nowMs: number): void {
    const stale = this.book.get(host.host, null, "stale");
    if (!stale) return;
    this.book.closeFlag(host.host, null, "stale", nowMs, nowMs, {
      reason: `${stale.reason}; its frames go to another collector of the share group`,
    });
  }

  /**
   * A GPU taken out of the inventory and not reported by the frames is gone on purpose: every
   * episode its readings drive (READING_KINDS: lost, idle-held, overheat …) ends, since no reading
   * will ever end it, and its track is forgotten. `candidates`: the GPUs to look at.
   */
  private endRemoved(
    host: HostTrack,
    candidates: Iterable<string>,
    reported: (uuid: string) => boolean,
    endMs: number,
    nowMs: number,
  ): void {
    if (Object.keys(host.inventory).length === 0) return;
    for (const uuid of candidates) {
      if (host.inventory[uuid] || reported(uuid)) continue;
      let ended = false;
      for (const kind of READING_KINDS) {
        const flag = this.book.get(host.host, uuid, kind);
        if (!flag) continue;
        this.book.closeFlag(host.host, uuid, kind, endMs, nowMs, {
          reason: `${flag.reason}; ${REMOVED_REASON}`,
        });
        ended = true;
      }
      if (ended) this.gpus.delete(gpuKey(host.host, uuid));
    }
  }

  /** Whether the host's newest frame evaluated for this GPU listed it (LOST counts: it is listed). */
  private reportedInFrames(hostName: string, uuid: string): boolean {
    const track = this.gpus.get(gpuKey(hostName, uuid));
    return track !== undefined && track.lastTs !== null && track.lost.missingSinceMs === null;
  }

  private frame(frame: ValidFrame, receivedAtMs: number): void {
    const host = this.host(frame.host, frame.site ?? "", frame.labels ?? {});
    if (this.options.sharedFrames && !this.holdsFrames(frame.host, receivedAtMs))
      this.raiseParked(frame.host, receivedAtMs);
    host.intervalMs = frame.interval_ms;
    host.framesHere = true;
    host.heldAtOffline = false;
    host.lastArrivalMs = Math.max(host.lastArrivalMs, receivedAtMs);
    this.book.closeFlag(frame.host, null, "stale", receivedAtMs, receivedAtMs);
    this.health.noteFrame(frame.host, frame.boot_id);
    const offline = this.book.get(frame.host, null, "offline");
    if (offline && frame.timestamp_ms >= offline.startMs)
      this.book.closeFlag(frame.host, null, "offline", frame.timestamp_ms, receivedAtMs);

    const t = frame.timestamp_ms;
    const maxStepMs = this.options.config.stale_intervals * frame.interval_ms;
    const listed = new Set<string>();
    for (const sample of frame.gpus ?? []) {
      const uuid = sample.uuid ?? "";
      if (!uuid) continue;
      listed.add(uuid);
      if (!host.seen.includes(uuid)) host.seen.push(uuid);
      this.sample(frame, host.inventory[uuid], sample, t, maxStepMs, receivedAtMs);
    }
    // GPUs the host should have but did not list: with the whole source failed they are in error,
    // otherwise missing (lost once missing for lostIntervals).
    const expected = Object.keys(host.inventory).length > 0 ? Object.keys(host.inventory) : host.seen;
    for (const uuid of expected) {
      if (listed.has(uuid)) continue;
      const index = host.inventory[uuid]?.index ?? this.gpus.get(gpuKey(frame.host, uuid))?.index ?? 0;
      if (frame.source_error) {
        const synthetic: IGpuSample = {
          uuid,
          index,
          state: GpuState.GPU_STATE_ERROR,
          state_detail: frame.source_error,
        };
        this.sample(frame, host.inventory[uuid], synthetic, t, maxStepMs, receivedAtMs);
        continue;
      }
      const track = this.track(frame, uuid, index);
      if (track.lastTs !== null && t <= track.lastTs) continue;
      track.lastTs = t;
      const missingAfterMs = this.options.config.lost_intervals * frame.interval_ms;
      const result = lostStep(track.lost, null, t, missingAfterMs, maxStepMs);
      track.lost = result.state;
      this.apply(
        track,
        [...result.transitions, ...this.supersedeError(track, result.transitions, t)],
        receivedAtMs,
      );
    }
    if (listed.size < host.seen.length)
      this.endRemoved(host, host.seen, (uuid) => listed.has(uuid), t, receivedAtMs);
  }

  private sample(
    frame: ValidFrame,
    info: IGpuInfo | undefined,
    sample: IGpuSample,
    t: number,
    maxStepMs: number,
    nowMs: number,
  ): void {
    const track = this.track(frame, sample.uuid ?? "", sample.index ?? 0);
    this.samples += 1;
    if (track.lastTs !== null && t <= track.lastTs) {
      this.lateSamples += 1;
      return;
    }
    track.lastTs = t;
    const input = { sample, t, intervalMs: frame.interval_ms, info, rules: this.rulesOf(track), maxStepMs };
    const transitions = evaluateSample(track, input);
    const missingAfterMs = this.options.config.lost_intervals * frame.interval_ms;
    const lost = lostStep(track.lost, sample, t, missingAfterMs, maxStepMs);
    track.lost = lost.state;
    if (lost.transitions.length > 0)
      transitions.push(...lost.transitions, ...this.supersedeError(track, lost.transitions, t));
    if (transitions.length > 0) this.apply(track, transitions, nowMs);
    this.health.onSample(track, sample, t, frame.boot_id, frame.host_sample, nowMs);
  }

  /** When lost opens, the error it supersedes closes (errorSupersededByLost). */
  private supersedeError(track: GpuTrack, lostTransitions: readonly Transition[], t: number): Transition[] {
    if (!lostTransitions.some((tr) => tr.type === "open")) return [];
    const result = errorSupersededByLost(track.error, t);
    track.error = result.state;
    return result.transitions;
  }

  private apply(track: GpuTrack, transitions: readonly Transition[], nowMs: number): void {
    // The timers are saved with the flag changes they made, in the same transaction: timers
    // reloaded after a crash never predate the flags (an episode that closed since is not raised
    // again from its old start, one that switched kind is not ended as the old kind).
    if (transitions.length === 0) return;
    this.options.store.saveRuleStates(
      [[`gpu:${gpuKey(track.host, track.uuid)}`, JSON.stringify(track)]],
      nowMs,
    );
    for (const tr of transitions) {
      if (tr.type === "open") {
        const { type: _type, ...rest } = tr;
        this.book.openFlag(
          {
            ...rest,
            host: track.host,
            gpuUuid: track.uuid,
            gpuIndex: track.index,
            site: track.site,
            labels: track.labels,
          },
          nowMs,
        );
      } else if (tr.type === "update") {
        this.book.updateFlag(track.host, track.uuid, tr.kind, tr.reason, tr.values, nowMs);
      } else {
        this.book.closeFlag(track.host, track.uuid, tr.kind, tr.endMs, nowMs, {
          reason: tr.reason,
          values: tr.values,
        });
      }
    }
  }

  private track(frame: ValidFrame, uuid: string, index: number): GpuTrack {
    const key = gpuKey(frame.host, uuid);
    let track = this.gpus.get(key);
    const site = frame.site ?? "";
    const labels = frame.labels ?? {};
    if (!track) {
      track = newTrack(frame.host, uuid, index, site, labels);
      this.gpus.set(key, track);
    } else if (track.site !== site || track.index !== index || !sameLabels(track.labels, labels)) {
      Object.assign(track, { site, labels, index });
      this.rules.delete(track);
    }
    this.dirtyGpus.add(key);
    return track;
  }

  /** Thresholds per GPU, computed once and again only when its site or labels change (see track()). */
  private rulesOf(track: GpuTrack): GpuRules {
    let rules = this.rules.get(track);
    if (!rules) {
      rules = rulesFor(this.options.config, track.site, track.labels);
      this.rules.set(track, rules);
    }
    return rules;
  }

  private host(name: string, site?: string, labels?: Record<string, string>): HostTrack {
    let host = this.hosts.get(name);
    if (!host) {
      host = newHost(name, site ?? "", labels ?? {});
      host.lastArrivalMs = this.now();
      this.hosts.set(name, host);
    } else if (site !== undefined && labels !== undefined) {
      host.site = site;
      host.labels = labels;
    }
    this.dirtyHosts.add(name);
    return host;
  }

  /** Runs one batch in a store transaction and delivers its events after the commit. */
  private batch(fn: () => void): void {
    try {
      this.options.store.transaction(fn);
    } catch (error) {
      this.book.reset();
      for (const track of this.gpus.values())
        reconcile(track, (kind) => this.book.get(track.host, track.uuid, kind));
      this.reloadParked();
      throw error;
    }
    for (const event of this.book.takeEvents()) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.log.error(
            { err: error, kind: event.flag.kind, host: event.flag.host },
            "Flag listener failed",
          );
        }
      }
    }
  }

  private save(nowMs: number, all: boolean): void {
    const entries: [string, string][] = [];
    for (const key of all ? this.gpus.keys() : this.dirtyGpus) {
      const state = this.gpus.get(key);
      if (state) entries.push([`gpu:${key}`, JSON.stringify(state)]);
    }
    for (const name of all ? this.hosts.keys() : this.dirtyHosts) {
      const state = this.hosts.get(name);
      if (state) entries.push([`host:${name}`, JSON.stringify(state)]);
    }
    this.options.store.saveRuleStates(entries, nowMs);
    this.dirtyGpus.clear();
    this.dirtyHosts.clear();
    this.lastSaveMs = nowMs;
  }
}

function gpuKey(host: string, uuid: string): string {
  return `${host}/${uuid}`;
}
