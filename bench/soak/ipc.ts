/** What bench/soak.ts and its driver (bench/soak/driver.ts) say to each other. */

export interface SoakJob {
  /** ws:// of the client-server. */
  url: string;
  /** http:// of the source-server. */
  publishUrl: string;
  key: string;
  token: string;
  subscribers: number;
  channels: number;
  /** Channels each subscriber holds. */
  perSubscriber: number;
  /** Publishes per second over all channels. */
  rate: number;
  dataBytes: number;
  /** Churn actions per second over all subscribers (see driver.ts for the mix). */
  churnPerSecond: number;
  /** Seconds between two slow-consumer episodes (one subscriber stops reading for a while). */
  slowEverySeconds: number;
}

export type ToDriver = { cmd: 'sample' } | { cmd: 'stop' };

/** Counters of everything the driver checks; all of the first group must stay 0. */
export interface SoakCounters {
  /** Sequence numbers a subscription should have received and did not (gaps, and shortfalls at the end). */
  lost: number;
  duplicates: number;
  /** Events older than the last one seen on that subscription (but not equal). */
  outOfOrder: number;
  /** Event ids not strictly increasing on a subscription. */
  idNotIncreasing: number;
  /** An event whose id differs from the id the source-server answered for that publish. */
  idMismatch: number;
  /** Events on a channel the connection was not subscribed to (after `unsubscribed`, before `subscribed`). */
  unexpected: number;
  /** Resumes answered `recovered:false` although `since` was well within history. */
  unrecovered: number;
  /** `error` messages from the server. */
  serverErrors: number;
  // What happened (informational).
  delivered: number;
  published: number;
  publishFailed: number;
  connects: number;
  resumes: number;
  freshSubscribes: number;
  unsubscribes: number;
  slowConsumerEpisodes: number;
  /** Closes with 4008 (slow consumer), each followed by a resume. */
  slowConsumerCloses: number;
  /** Other closes the client did not ask for, each followed by a resume. */
  serverCloses: number;
}

export interface SoakSample {
  type: 'sample';
  /** Deliveries since the previous sample and their latency (publish → receive). */
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  openConnections: number;
  counters: SoakCounters;
}

export interface SoakFinal {
  type: 'final';
  counters: SoakCounters;
  /** Subscriptions checked at the end against the last accepted sequence number of their channel. */
  subscriptionsChecked: number;
}

export type FromDriver = SoakSample | SoakFinal | { type: 'ready' };
