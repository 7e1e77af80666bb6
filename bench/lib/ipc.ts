/** What bench/run.ts and its load-generator children say to each other over IPC. */
import type { PayloadKind } from './payload.js';

/** `pusher`: eventrelay's client-servers through their Pusher endpoint (`/app/{key}`), fed through the Pusher HTTP API. */
export type Target = 'eventrelay' | 'pusher' | 'floor' | 'socketio';

/** The Pusher app of the `pusher` target. */
export interface BenchPusherApp {
  id: string;
  key: string;
  secret: string;
}

export interface SubscriberJob {
  target: Target;
  /** ws://host:port (eventrelay, floor) or http://host:port (socket.io), one per subscriber-side server; subscriber i uses urls[i % n]. */
  urls: string[];
  /** Subscriber JWT (eventrelay only). */
  token?: string;
  /** The app whose key the Pusher sockets connect with (pusher only). */
  pusherApp?: BenchPusherApp;
  count: number;
  /** Channels in all: bench-0 … bench-(channels-1). */
  channels: number;
  /** Channels each subscriber holds: consecutive numbers from its base, wrapping (1 = one channel each). */
  perSubscriber: number;
  /** Index of this process's first subscriber, so that several processes spread evenly over channels. */
  first: number;
  /** Offer permessage-deflate (server_no_context_takeover + client_no_context_takeover). */
  deflate: boolean;
  /** Rebuild every event's `data` from its sequence number and compare it byte for byte (lib/payload.ts). */
  verify?: { kind: PayloadKind; dataBytes: number };
  /** Source address to bind (127.0.0.x): each address has its own ephemeral port range. */
  localAddress?: string;
  /** Connections opened at once by this process. */
  concurrency: number;
  /** Keep one latency histogram per sequence number (the connections section's broadcasts). */
  perSeq: boolean;
}

export type ToSubscribers =
  | { cmd: 'mark' }
  | { cmd: 'finish'; expected: Record<string, number> }
  /** Answer `reached` once every subscriber of this process has seen `seq` on `channel` (or after `timeoutMs`). */
  | { cmd: 'await'; channel: string; seq: number; timeoutMs: number };

export interface SubscriberResult {
  type: 'result';
  received: number;
  /** Deliveries inside the measured window (after `mark`). */
  measured: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Events whose data was not byte for byte what was published (only with `verify`). */
  corrupt: number;
  disconnects: number;
  /** Bytes read from the TCP sockets in the measured window (WebSocket frames, compressed or not, as they arrived). */
  bytesRead: number;
  /** The generator's own CPU over the measured window. */
  cpuMicros: number;
  wallMs: number;
  /** HDR histogram of latency in µs, compressed base64. */
  histogram: string;
  /** With `perSeq`: one histogram per sequence number of channel bench-0. */
  perSeq?: Record<string, string>;
}

export interface SubscriberReady {
  type: 'ready';
  connected: number;
  /** Connections that negotiated permessage-deflate. */
  deflated: number;
  /** Epoch ms of the first connect attempt and of the last `subscribed`. */
  connectStart: number;
  connectEnd: number;
}

export type FromSubscribers = SubscriberReady | SubscriberResult | { type: 'reached'; seq: number; complete: boolean };

export interface PublisherJob {
  target: Target;
  /** http://host:port of the publishing process. */
  url: string;
  /** PUBLISHER_KEYS entry (eventrelay only). */
  key?: string;
  /** The app whose secret signs each trigger (pusher only). */
  pusherApp?: BenchPusherApp;
  channels: number;
  /** Events per second over all channels. */
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** Size of the event's `data` JSON in bytes. */
  dataBytes: number;
  payload: PayloadKind;
}

export interface PublisherResult {
  type: 'done';
  /** Last sequence number accepted per channel: what every subscriber of that channel must reach. */
  expected: Record<string, number>;
  sent: number;
  failed: number;
  /** Events accepted in the measured window. */
  acceptedInWindow: number;
  /** Events accepted per second in the measured window. */
  achievedRate: number;
  cpuMicros: number;
}

export type FromPublisher = { type: 'marked' } | PublisherResult;
