/**
 * What a webhook reports (PROTOCOL.md v1.1, Webhooks): one transition, as it
 * appears in a delivery's `events` list. The engine appends it to the
 * channel's outbox in the same atomic step that detects it, so a
 * client-server dying right after cannot lose it; a dispatcher on any
 * replica delivers the outbox (engine/webhooks).
 */
export type Transition =
  | { kind: 'channel.occupied' | 'channel.vacated'; channel: string; time: number }
  | { kind: 'presence.join' | 'presence.leave'; channel: string; time: number; user: string }
  /** `data` is the event's data as JSON text (spliced in verbatim, so numbers keep every digit). */
  | { kind: 'client.publish'; channel: string; time: number; id: string; publisher: string; data: string }
  /** A Pusher cache channel subscribed while it had no cached event (Pusher's `cache_miss`; only Pusher receivers get it). */
  | { kind: 'cache.miss'; channel: string; time: number };

export type TransitionKind = Transition['kind'];

/** The transition as the JSON object of a delivery's `events` list, serialized once. */
export function transitionJson(t: Transition): string {
  const head = `{"kind":"${t.kind}","channel":"${t.channel}","time":${t.time}`;
  switch (t.kind) {
    case 'presence.join':
    case 'presence.leave':
      return `${head},"user":${JSON.stringify(t.user)}}`;
    case 'client.publish':
      return `${head},"id":"${t.id}","publisher":${JSON.stringify(t.publisher)},"data":${t.data}}`;
    default:
      return `${head}}`;
  }
}
