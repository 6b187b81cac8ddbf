// MQTT topic layout (docs/design.md §3): gputel/v1/<host>/{frame,status,inventory,event,processes}.

export const TOPIC_ROOT = "gputel/v1";
/** `event`: kernel-log health events (EventBatch, QoS 1, never retained, through the agent's spool). */
/** `processes`: the host's compute processes (ProcessSet, QoS 1, never retained, through a spool). */
export type TopicKind = "frame" | "status" | "inventory" | "event" | "processes";
export const TOPIC_KINDS: readonly TopicKind[] = ["frame", "status", "inventory", "event", "processes"];

/** Host ids are also MQTT usernames and topic levels: no wildcards, separators or spaces. */
export const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidHostId(host: string): boolean {
  return HOST_ID.test(host);
}

export function topicFor(host: string, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${host}/${kind}`;
}

/** Subscription filters for a collector; `shareGroup` turns them into MQTT 5 shared subscriptions. */
export function subscriptionFilter(kind: TopicKind, shareGroup?: string): string {
  const filter = `${TOPIC_ROOT}/+/${kind}`;
  return shareGroup ? `$share/${shareGroup}/${filter}` : filter;
}

export interface ParsedTopic {
  host: string;
  kind: TopicKind;
}

export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split("/");
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const host = parts[2] ?? "";
  const kind = parts[3] as TopicKind;
  if (!isValidHostId(host) || !TOPIC_KINDS.includes(kind)) return undefined;
  return { host, kind };
}
