import { WebSocket } from 'ws';

/**
 * What a well-behaved client does (and what the SDK does): on any close, it
 * reconnects, round-robin over the client-servers it knows, and resumes each
 * channel with `since` = the last id it received. It records everything, so
 * a test can count lost, duplicated and out-of-order deliveries.
 */
export class ResumingSubscriber {
  readonly received: string[] = [];
  /** `recovered` of every `subscribed` reply, in order. */
  readonly recoveredFlags: boolean[] = [];
  readonly closeCodes: number[] = [];
  reconnects = 0;
  lastId: string | undefined;
  private ws: WebSocket | undefined;
  private stopped = false;
  private next: number;
  private subscribedOnce!: Promise<void>;

  constructor(
    private readonly wsUrls: string[],
    private readonly token: string,
    readonly channel: string,
    start = 0,
  ) {
    this.next = start;
  }

  /** Resolves once the first subscription is live. */
  start(): Promise<void> {
    this.subscribedOnce = new Promise((resolve) => this.connect(resolve));
    return this.subscribedOnce;
  }

  /** Closes the socket without stopping: the subscriber reconnects and resumes. */
  drop(): void {
    this.ws?.terminate();
  }

  /** Goes offline until `resume()` (to make a gap on purpose). */
  pause(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  resume(): void {
    this.stopped = false;
    this.connect(() => {});
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private connect(onSubscribed: () => void): void {
    if (this.stopped) return;
    const url = `${this.wsUrls[this.next++ % this.wsUrls.length]}?token=${this.token}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let retried = false;
    const retry = () => {
      if (retried || this.stopped) return;
      retried = true;
      this.reconnects++;
      // Small jittered backoff, like the SDK's.
      setTimeout(() => this.connect(onSubscribed), 50 + Math.random() * 150);
    };
    ws.on('open', () => {
      const since = this.lastId;
      ws.send(JSON.stringify(since ? { type: 'subscribe', channel: this.channel, since } : { type: 'subscribe', channel: this.channel }));
    });
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; id?: string; recovered?: boolean; code?: string };
      if (m.type === 'event' && m.id) {
        this.received.push(m.id);
        this.lastId = m.id;
      } else if (m.type === 'subscribed') {
        this.recoveredFlags.push(Boolean(m.recovered));
        onSubscribed();
      } else if (m.type === 'error') {
        // e.g. unavailable while Redis restarts: reconnect and try again.
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      this.closeCodes.push(code);
      retry();
    });
    ws.on('error', () => retry());
  }
}

/** Lost / duplicated / out-of-order counts of `received` against the acknowledged ids. */
export function deliveryReport(acknowledged: readonly string[], received: readonly string[]) {
  const ack = new Set(acknowledged);
  const seen = new Set<string>();
  let duplicated = 0;
  let outOfOrder = 0;
  let previous: [number, number] = [-1, -1];
  for (const id of received) {
    if (seen.has(id)) duplicated++;
    seen.add(id);
    const [ms, seq] = id.split('-').map(Number) as [number, number];
    if (ms < previous[0] || (ms === previous[0] && seq <= previous[1])) outOfOrder++;
    previous = [ms, seq];
  }
  const lost = acknowledged.filter((id) => !seen.has(id)).length;
  const unexpected = [...seen].filter((id) => !ack.has(id)).length;
  return { published: acknowledged.length, delivered: received.length, lost, duplicated, outOfOrder, unexpected };
}
