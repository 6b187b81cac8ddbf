// Builds the retained inventory message from the source's and the host's facts.

import { type IHostInfo, type IInventory, SCHEMA_VERSION } from "../shared/proto.js";
import type { AgentIdentity } from "./frame/frame-builder.js";
import type { SourceInventory } from "./sources/source.js";

export function buildInventory(
  identity: AgentIdentity,
  source: SourceInventory | undefined,
  hostInfo: IHostInfo | undefined,
  error: string | undefined,
  nowMs: number,
): IInventory {
  const inventory: IInventory = {
    schema_version: SCHEMA_VERSION,
    host: identity.host,
    timestamp_ms: nowMs,
    driver_version: source?.driverVersion ?? "",
    cuda_version: source?.cudaVersion ?? "",
    xml_schema: source?.schema ?? "",
    gpus: source?.gpus ?? [],
    site: identity.site,
    labels: identity.labels,
    agent_version: identity.agentVersion,
  };
  if (hostInfo) inventory.host_info = hostInfo;
  if (error) inventory.error = error;
  return inventory;
}

/** Inventory content without its timestamp, to decide whether it changed and must be republished. */
export function inventoryFingerprint(inventory: IInventory): string {
  return JSON.stringify({ ...inventory, timestamp_ms: 0 });
}
