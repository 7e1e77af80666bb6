/** What bench/run.ts and its load-generator children say to each other over IPC. */
export type Target = 'eventrelay' | 'floor' | 'socketio';

export interface SubscriberJob {
  target: Target;
  /** ws://host:port (eventrelay, floor) or http://host:port (socket.io). */
  url: string;
  /** Subscriber JWT (eventrelay only). */
  token?: string;
  count: number;
  channels: number;
  /** Index of this process's first subscriber, so that several processes spread evenly over channels. */
  first: number;
}

export type ToSubscribers = { cmd: 'mark' } | { cmd: 'finish'; expected: Record<string, number> };

export interface SubscriberResult {
  type: 'result';
  received: number;
  /** Deliveries inside the measured window (after `mark`). */
  measured: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  disconnects: number;
  /** The generator's own CPU over the measured window. */
  cpuMicros: number;
  wallMs: number;
  /** HDR histogram of latency in µs, compressed base64. */
  histogram: string;
}

export type FromSubscribers = { type: 'ready'; connected: number } | SubscriberResult;

export interface PublisherJob {
  target: Target;
  /** http://host:port of the publishing process. */
  url: string;
  /** PUBLISHER_KEYS entry (eventrelay only). */
  key?: string;
  channels: number;
  /** Events per second over all channels. */
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** Size of the event's `data` JSON in bytes. */
  dataBytes: number;
}

export interface PublisherResult {
  type: 'done';
  /** Last sequence number accepted per channel: what every subscriber of that channel must reach. */
  expected: Record<string, number>;
  sent: number;
  failed: number;
  /** Events accepted per second in the measured window. */
  achievedRate: number;
  cpuMicros: number;
}

export type FromPublisher = { type: 'marked' } | PublisherResult;
