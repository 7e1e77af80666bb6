/*
 * Every Redis name of a channel carries the channel as a Redis Cluster hash
 * tag (`{<channel>}`), so that a channel's stream, idempotency keys and topic
 * live in one slot and the publish script may touch them together. Channel
 * names cannot contain braces (channel.ts), so the tag is always the whole name.
 */

const PREFIX = 'er:{';

/** The channel's history: a Redis stream of entries `d` (data JSON), `t` (ts) and, for client publishes, `p` (publisher). */
export function streamKey(channel: string): string {
  return `${PREFIX}${channel}}:s`;
}

/**
 * Holds the id first stored under an Idempotency-Key on this channel; with a
 * scope (whose key it is), the same key of another scope is another key.
 */
export function idempotencyKey(channel: string, key: string, scope?: string): string {
  return scope === undefined ? `${PREFIX}${channel}}:i:${key}` : `${PREFIX}${channel}}:i:${scope}:${key}`;
}

/** The pub/sub topic that carries the channel's live event frames. */
export function topicName(channel: string): string {
  return `${PREFIX}${channel}}:t`;
}
