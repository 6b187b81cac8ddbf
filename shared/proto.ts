// The wire contract, as generated from proto/gputel/v1 (see scripts/gen-proto.mjs).
// First: 64-bit fields as numbers, set before the generated module below is evaluated.
import "./proto-numbers.js";
import { gputel } from "../proto/generated/gputel.js";

export const v1 = gputel.v1;
export const Frame = gputel.v1.Frame;
export const FrameBatch = gputel.v1.FrameBatch;
export const GpuSample = gputel.v1.GpuSample;
export const HostSample = gputel.v1.HostSample;
export const Inventory = gputel.v1.Inventory;
export const GpuInfo = gputel.v1.GpuInfo;
export const HostInfo = gputel.v1.HostInfo;
export const Status = gputel.v1.Status;
export const SourceStatus = gputel.v1.SourceStatus;
export const GpuState = gputel.v1.GpuState;
export const AbsentReason = gputel.v1.AbsentReason;
export const Metric = gputel.v1.Metric;
export const AgentState = gputel.v1.AgentState;
export const HealthEvent = gputel.v1.HealthEvent;
export const EventBatch = gputel.v1.EventBatch;
export const EventKind = gputel.v1.EventKind;
export const ProcessSet = gputel.v1.ProcessSet;
export const ProcessRecord = gputel.v1.ProcessRecord;

export type IFrame = gputel.v1.IFrame;
export type IFrameBatch = gputel.v1.IFrameBatch;
export type IGpuSample = gputel.v1.IGpuSample;
export type IHostSample = gputel.v1.IHostSample;
export type IInventory = gputel.v1.IInventory;
export type IGpuInfo = gputel.v1.IGpuInfo;
export type IMigDevice = gputel.v1.IMigDevice;
export type IHostInfo = gputel.v1.IHostInfo;
export type IStatus = gputel.v1.IStatus;
export type ISourceStatus = gputel.v1.ISourceStatus;
export type IAbsence = gputel.v1.IAbsence;
export type IHealthEvent = gputel.v1.IHealthEvent;
export type IEventBatch = gputel.v1.IEventBatch;
export type IProcessSet = gputel.v1.IProcessSet;
export type IProcessRecord = gputel.v1.IProcessRecord;
export type IProcessAbsence = gputel.v1.IProcessAbsence;
export type EventKindValue = gputel.v1.EventKind;
export type GpuStateValue = gputel.v1.GpuState;
export type AbsentReasonValue = gputel.v1.AbsentReason;
export type MetricValue = gputel.v1.Metric;
export type AgentStateValue = gputel.v1.AgentState;

/** The only schema version this build writes and accepts. */
export const SCHEMA_VERSION = 1;

/** The longest interval a frame may cover (the collector drops a frame claiming more). */
export const MAX_FRAME_INTERVAL_MS = 24 * 3600_000;

/** Payloads above this size are dropped before decoding (docs/design.md §3). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
