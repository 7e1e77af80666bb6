import { assertChannel } from './channel.js';
import { EventRelayError } from './errors.js';
import type { PublishedInfo, RelayErrorInfo } from './types.js';

/** PROTOCOL.md v1.1: a publish `ref` is at most 64 characters; longer ones are refused by the server. */
export const MAX_REF_LENGTH = 64;
/** PROTOCOL.md: an idempotency key is 1 to 128 visible ASCII characters. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface PublishOptions {
  /** Echoed in the reply; default: one the SDK picks. At most 64 characters, unique among publishes in flight. */
  ref?: string;
  /**
   * Makes retries safe: the server stores one event per key and channel. A
   * publish with a key is resent after a reconnect; one without is rejected
   * with `connection_lost` when the connection drops before the answer.
   */
  idempotencyKey?: string;
}

interface Pending {
  ref: string;
  channel: string;
  frame: string;
  idempotent: boolean;
  sent: boolean;
  resolve: (info: PublishedInfo) => void;
  reject: (error: EventRelayError) => void;
}

/** Publishes sent (or waiting for a connection) and not yet answered, matched to replies by `ref`. */
export class PendingPublishes {
  private readonly byRef = new Map<string, Pending>();
  private counter = 0;

  add(channel: string, data: unknown, options: PublishOptions): { entry: Pending; promise: Promise<PublishedInfo> } {
    assertChannel(channel);
    if (data === undefined) throw new EventRelayError('invalid_request', 'publish needs data: any JSON value (undefined is not one).', { channel });
    let ref = options.ref;
    if (ref !== undefined) {
      if (typeof ref !== 'string' || ref.length > MAX_REF_LENGTH) {
        throw new EventRelayError('invalid_request', `ref must be a string of at most ${MAX_REF_LENGTH} characters.`, { channel });
      }
      if (this.byRef.has(ref)) throw new EventRelayError('invalid_request', `A publish with ref "${ref}" is still waiting for its answer.`, { channel, ref });
    } else {
      do ref = `p${++this.counter}`;
      while (this.byRef.has(ref));
    }
    const key = options.idempotencyKey;
    if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new EventRelayError('invalid_request', 'idempotencyKey must be 1-128 visible ASCII characters.', { channel, ref });
    }
    const message: Record<string, unknown> = { type: 'publish', channel, data, ref };
    if (key !== undefined) message.idempotencyKey = key;
    let entry!: Pending;
    const promise = new Promise<PublishedInfo>((resolve, reject) => {
      entry = { ref: ref!, channel, frame: JSON.stringify(message), idempotent: key !== undefined, sent: false, resolve, reject };
    });
    this.byRef.set(entry.ref, entry);
    return { entry, promise };
  }

  /** Those to send on the connection that just opened. */
  unsent(): Pending[] {
    return [...this.byRef.values()].filter((p) => !p.sent);
  }

  /** Settles the publish a `published` reply answers; false when no publish has that ref. */
  published(reply: { channel: string; id: string; ref?: string }): boolean {
    const entry = reply.ref === undefined ? undefined : this.byRef.get(reply.ref);
    if (!entry) return false;
    this.byRef.delete(entry.ref);
    entry.resolve({ channel: reply.channel, id: reply.id, ref: entry.ref });
    return true;
  }

  /** Rejects the publish an `error` with this ref answers; false when no publish has that ref. */
  refused(ref: string, error: RelayErrorInfo): boolean {
    const entry = this.byRef.get(ref);
    if (!entry) return false;
    this.byRef.delete(ref);
    entry.reject(new EventRelayError(error.code, error.message, { channel: error.channel ?? entry.channel, ref }));
    return true;
  }

  /**
   * The connection dropped: whether an unanswered publish was stored is
   * unknown. Those with an idempotency key are resent on the next
   * connection (the server stores at most one); the others are rejected.
   */
  connectionLost(): void {
    for (const entry of this.byRef.values()) {
      if (!entry.sent) continue;
      if (entry.idempotent) entry.sent = false;
      else {
        this.byRef.delete(entry.ref);
        entry.reject(
          new EventRelayError('connection_lost', 'The connection was lost before the server answered: the event may or may not be stored (pass idempotencyKey to make a retry safe).', {
            channel: entry.channel,
            ref: entry.ref,
          }),
        );
      }
    }
  }

  rejectAll(error: RelayErrorInfo): void {
    for (const entry of this.byRef.values()) entry.reject(new EventRelayError(error.code, error.message, { ...error, channel: entry.channel, ref: entry.ref }));
    this.byRef.clear();
  }
}
