import { WebSocket } from 'ws';

/**
 * Many cheap resuming subscribers: one WebSocket and one channel each, a few
 * channels shared by many (closer to production than many channels each).
 * Like test/support/resuming-subscriber.ts, but it also records what the
 * fault suite reports: `since` and `recovered` of every resume, close codes,
 * reconnect times, and publish-to-receive latency. Frames are not parsed as
 * JSON when they are events (id and ts are read from the text), so that 200+
 * subscribers at tens of MB/s stay cheap for the test process.
 */
export interface FleetOptions {
  wsUrls: string[];
  /** A token per subscriber (index), e.g. all the same. */
  token: (index: number) => string;
  channels: string[];
  count: number;
  /** Close codes after which a subscriber stays closed instead of resuming (e.g. 4001). */
  finalCodes?: number[];
  /** These subscribers stop reading once subscribed, until the server cuts them. */
  slow?: (index: number) => boolean;
  /** How long a cut slow subscriber stays away before it resumes (reading normally). Default 1000. */
  slowOfflineMs?: number;
}

export interface Resume {
  since?: string;
  recovered: boolean;
}

export class FleetSubscriber {
  readonly received: string[] = [];
  readonly latencies: number[] = [];
  readonly resumes: Resume[] = [];
  readonly closeCodes: number[] = [];
  readonly reconnectTimes: number[] = [];
  /** Event ts (source receive time) of every received event. */
  readonly receivedTs: number[] = [];
  closedAt?: number;
  lastId?: string;
  private ws?: WebSocket;
  private stopped = false;
  private next: number;

  constructor(
    private readonly options: FleetOptions,
    readonly index: number,
    readonly channel: string,
    private slow: boolean,
  ) {
    this.next = index;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  get isSlow(): boolean {
    return this.slow;
  }

  /**
   * A paused socket never sees the server's 4008 close (nor its FIN: both wait
   * behind the unread data), so a slow subscriber that comes back to life
   * reads its backlog first and then learns it was cut.
   */
  resumeReading(): void {
    (this.ws as unknown as { _socket?: { resume(): void } } | undefined)?._socket?.resume();
  }

  private connect(onSubscribed: () => void): void {
    if (this.stopped) return;
    const url = `${this.options.wsUrls[this.next++ % this.options.wsUrls.length]}?token=${this.options.token(this.index)}`;
    const ws = new WebSocket(url, { skipUTF8Validation: true });
    this.ws = ws;
    let retried = false;
    const retry = (delayMs = 50 + Math.random() * 150) => {
      if (retried || this.stopped) return;
      retried = true;
      setTimeout(() => {
        this.reconnectTimes.push(Date.now());
        this.connect(onSubscribed);
      }, delayMs).unref();
    };
    ws.on('open', () => {
      const since = this.lastId;
      this.resumes.push({ since, recovered: true });
      ws.send(JSON.stringify(since ? { type: 'subscribe', channel: this.channel, since } : { type: 'subscribe', channel: this.channel }));
    });
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString();
      if (text.startsWith('{"type":"event"')) {
        const now = Date.now();
        const idAt = text.indexOf('"id":"') + 6;
        const id = text.slice(idAt, text.indexOf('"', idAt));
        const ts = Number(text.slice(text.lastIndexOf('"ts":') + 5, -1));
        this.received.push(id);
        this.receivedTs.push(ts);
        this.latencies.push(now - ts);
        this.lastId = id;
        return;
      }
      const m = JSON.parse(text) as { type: string; recovered?: boolean };
      if (m.type === 'subscribed') {
        this.resumes.at(-1)!.recovered = Boolean(m.recovered);
        // Stops reading: the server's buffers fill up until it cuts us with 4008.
        if (this.slow) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        onSubscribed();
      } else if (m.type === 'error') {
        // e.g. unavailable while Redis restarts: reconnect and try again.
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      this.closeCodes.push(code);
      if (this.options.finalCodes?.includes(code)) {
        this.closedAt = Date.now();
        this.stopped = true;
        return;
      }
      if (this.slow) {
        this.slow = false;
        retry(this.options.slowOfflineMs ?? 1000);
      } else retry();
    });
    ws.on('error', () => retry());
  }
}

export class Fleet {
  readonly subscribers: FleetSubscriber[];

  constructor(options: FleetOptions) {
    this.subscribers = Array.from(
      { length: options.count },
      (_, i) => new FleetSubscriber(options, i, options.channels[i % options.channels.length]!, options.slow?.(i) ?? false),
    );
  }

  /** Connects in small waves, so that the start itself is not a connection storm. */
  async start(): Promise<void> {
    for (let i = 0; i < this.subscribers.length; i += 25) {
      await Promise.all(this.subscribers.slice(i, i + 25).map((s) => s.start()));
    }
  }

  stop(): void {
    for (const s of this.subscribers) s.stop();
  }

  on(channel: string): FleetSubscriber[] {
    return this.subscribers.filter((s) => s.channel === channel);
  }

  /** The most reconnects any one second saw, over every subscriber. */
  peakReconnectsPerSecond(): number {
    const perSecond = new Map<number, number>();
    for (const s of this.subscribers) for (const t of s.reconnectTimes) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    return Math.max(0, ...perSecond.values());
  }

  /** Reconnects per second from the first one, e.g. "12 40 33 5". */
  reconnectsBySecond(): string {
    const times = this.subscribers.flatMap((s) => s.reconnectTimes);
    if (times.length === 0) return '';
    const first = Math.floor(Math.min(...times) / 1000);
    const counts: number[] = [];
    for (const t of times) counts[Math.floor(t / 1000) - first] = (counts[Math.floor(t / 1000) - first] ?? 0) + 1;
    return Array.from(counts, (n) => n ?? 0).join(' ');
  }

  reconnects(): number {
    return this.subscribers.reduce((n, s) => n + s.reconnectTimes.length, 0);
  }

  recoveredFalse(): number {
    return this.subscribers.reduce((n, s) => n + s.resumes.filter((r) => !r.recovered).length, 0);
  }
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
