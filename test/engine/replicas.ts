import type { BusEvent, BusHandler } from '../../services/engine/bus.js';
import type { Engine } from '../../services/engine/engine.js';
import type { Transition } from '../../services/engine/outbox.js';
import type { PresenceChange } from '../../services/engine/presence.js';
import type { Config } from '../../services/runtime/config/schema.js';

/** An engine that can also stop the way a killed process does. */
export type Replica = Engine & { crash(): Promise<void> };

/** Several replicas (client-servers) on one broker, and what the broker recorded for webhooks. */
export interface ReplicaSet {
  replicas: Replica[];
  /** The transitions appended to `channel`'s webhook outbox, in order. */
  outbox(channel: string): Promise<Transition[]>;
  close(): Promise<void>;
}

export type ReplicaFactory = (count: number, overrides?: Partial<Config>) => Promise<ReplicaSet>;

/** A BusHandler that records presence changes (and events) a replica's bus hands it. */
export interface PresenceRecorder extends BusHandler {
  changes: PresenceChange[];
  events: BusEvent[];
  resubscribed: number;
}

export function presenceRecorder(): PresenceRecorder {
  const recorder: PresenceRecorder = {
    changes: [],
    events: [],
    resubscribed: 0,
    onEvent: (event) => void recorder.events.push(event),
    onGap: () => {},
    onPresence: (_channel, change) => void recorder.changes.push(change),
    onResume: () => void recorder.resubscribed++,
  };
  return recorder;
}

/**
 * Webhooks pointed at a port nothing listens on (9, discard): every delivery
 * fails and is retried, so the transitions stay in the outbox for the
 * contract tests to read.
 */
export const UNDELIVERABLE_SECRET = 'contract-tests-webhook-secret-0123456789';
