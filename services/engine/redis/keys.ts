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

/**
 * The channel's webhook outbox (engine/outbox.ts): a stream of entries `j`
 * (the transition's JSON), appended by the same script that detects the
 * transition, so that it is never lost with the process that saw it.
 */
export function outboxKey(channel: string): string {
  return `${PREFIX}${channel}}:w`;
}

/**
 * Channels whose outbox may hold undelivered transitions: a sorted set
 * (score: ms when marked), the webhook dispatchers' work list. Global, so it
 * lives in one slot; it is always written by its own command, never inside a
 * channel's script (a Cluster script may only touch one slot).
 */
export const OUTBOX_INDEX_KEY = 'er:webhooks:pending';

/** Presence members by connection: field `<replica>|<connection>`, value `{"u":<user>,"i":<info>}`. */
export function presenceMembersKey(channel: string): string {
  return `${PREFIX}${channel}}:pm`;
}

/** Presence users: field user, value its number of connections in the channel (0 → the user left). */
export function presenceUsersKey(channel: string): string {
  return `${PREFIX}${channel}}:pu`;
}

/** Presence infos: field user, value the `info` JSON of its latest connection. */
export function presenceInfoKey(channel: string): string {
  return `${PREFIX}${channel}}:pi`;
}

/** Occupancy and counts: field replica id, value that replica's subscription count of the channel. */
export function occupancyKey(channel: string): string {
  return `${PREFIX}${channel}}:oc`;
}

/** Live replicas: a sorted set, score the Redis time (ms) of each one's last heartbeat. */
export const REPLICAS_KEY = 'er:replicas';

/** The channels a replica holds occupancy or presence in, so that its death can be cleaned up by another. */
export function replicaChannelsKey(replica: string): string {
  return `er:replica:{${replica}}:ch`;
}

/** Held by the replica that is cleaning up after a dead one, so that two do not race (they would agree anyway). */
export function replicaSweepKey(replica: string): string {
  return `er:replica:{${replica}}:sweep`;
}

/** Occupied channels by name (sorted set, score 0) for the server API's listing: a hint healed by each replica's reports. */
export const CHANNEL_INDEX_KEY = 'er:channels';

/** The webhook lease of the channel: which dispatcher delivers its outbox now (a string, with an expiry). */
export function outboxLeaseKey(channel: string): string {
  return `${PREFIX}${channel}}:wl`;
}

/** Delivery state of the channel's outbox: per webhook URL a cursor and its batch in flight (scripts/webhook-scripts.ts). */
export function outboxStateKey(channel: string): string {
  return `${PREFIX}${channel}}:wd`;
}

/** Every outbox, as a SCAN pattern (the repair that finds outboxes off the work list). */
export const OUTBOX_SCAN_PATTERN = `${PREFIX}*}:w`;

/** The channel of an outbox key, or undefined for any other key. */
export function channelOfOutboxKey(key: string): string | undefined {
  const end = key.indexOf('}');
  return key.startsWith(PREFIX) && end > PREFIX.length && key.slice(end) === '}:w' ? key.slice(PREFIX.length, end) : undefined;
}

/** Held by the replica that runs the outbox repair this interval, so that one SCAN serves the whole deployment. */
export const OUTBOX_REPAIR_KEY = 'er:webhooks:repair';

/** An address's connections per replica (hash), for MAX_CONNECTIONS_PER_IP across client-servers; `ipHash` is a digest, never the address. */
export function connectionCountKey(ipHash: string): string {
  return `er:ip:{${ipHash}}:c`;
}

/** Each replica's lease on its share of the address's count (sorted set, score: expiry at Redis's clock). */
export function connectionLeaseKey(ipHash: string): string {
  return `er:ip:{${ipHash}}:l`;
}
