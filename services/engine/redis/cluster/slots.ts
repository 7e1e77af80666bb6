import calculateSlot from 'cluster-key-slot';
import { streamKey } from '../keys.js';

/** Slots of a Redis Cluster. */
export const SLOT_COUNT = 16_384;

/**
 * The slot every name of `channel` lives on (they share the tag `{channel}`,
 * keys.ts), computed locally with the CRC16 ioredis itself routes by.
 */
export function channelSlot(channel: string): number {
  return calculateSlot(streamKey(channel));
}

/** The slot of any key or shard channel. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}

/** What the Cluster client knows of the slot map: `slots[slot][0]` is the master's `host:port`. */
export interface SlotMap {
  readonly slots: ReadonlyArray<ReadonlyArray<string> | undefined>;
}

/** The master (`host:port`) that owns `slot` as far as the Cluster client knows, if it knows. */
export function ownerOf(map: SlotMap, slot: number): string | undefined {
  return map.slots[slot]?.[0];
}

/** Every master that owns at least one slot, and how many. */
export function masters(map: SlotMap): Map<string, number> {
  const owned = new Map<string, number>();
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const key = map.slots[slot]?.[0];
    if (key !== undefined) owned.set(key, (owned.get(key) ?? 0) + 1);
  }
  return owned;
}

/** Tags tried before giving up on a master: one that owns a single slot of 16384 is found within ~16384·ln(1000) tries at worst; far fewer usually. */
const MAX_TAG_TRIES = 200_000;

/**
 * A canary topic `<base>-<n>}` (base ends in `{<process uuid>`) whose slot
 * `master` owns, so that SPUBLISH on it lands on that master: the n-th tag is
 * tried locally (CRC16) until one hashes onto the master's slots.
 */
export function canaryTopicOn(map: SlotMap, master: string, base: string): string | undefined {
  for (let n = 0; n < MAX_TAG_TRIES; n++) {
    const topic = `${base}-${n}}`;
    if (ownerOf(map, keySlot(topic)) === master) return topic;
  }
  return undefined;
}

/** `host:port` → its parts (IPv6 hosts come without brackets in CLUSTER SLOTS). */
export function splitNodeKey(key: string): { host: string; port: number } {
  const colon = key.lastIndexOf(':');
  return { host: key.slice(0, colon), port: Number(key.slice(colon + 1)) };
}
