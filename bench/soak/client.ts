// One soak subscriber: a WebSocket holding a few channels, which it
// unsubscribes and resubscribes (with `since`: a resume), drops and resumes,
// or stops reading for a while, as the driver tells it. It checks every event:
// per channel, publisher sequence numbers arrive each once and in order,
// ids strictly increase and equal the ids the source-server answered.
import { WebSocket } from 'ws';
import type { SoakCounters } from './ipc.js';
import type { PublishLoop } from './publish-loop.js';

/** Close codes (PROTOCOL.md). */
const SLOW_CONSUMER = 4008;
/** How soon a dropped connection comes back. */
const RECONNECT_DELAY_MS = 200;
/** After a slow consumer reads again, how long its backlog is kept out of the latency figures. */
const BACKLOG_GRACE_MS = 10_000;
const now = () => performance.timeOrigin + performance.now();

export interface ClientContext {
  url: string;
  token: string;
  publisher: PublishLoop;
  counters: SoakCounters;
  /** Ids not answered by the source-server yet when the event arrived: checked later by the driver. */
  pendingIds: [channel: number, seq: number, id: string][];
  recordLatency(ms: number): void;
}

interface ChannelState {
  phase: 'idle' | 'subscribing' | 'active' | 'unsubscribing';
  lastSeq: number;
  lastId: string | undefined;
  /** A fresh subscription (no since) before its first event: that event's seq may be at most this. */
  firstBound: number | undefined;
  /** When `subscribed` arrived (epoch ms): events sent before it are replays, not live latency. */
  liveFrom: number;
  resumed: boolean;
  /** Forgotten once `unsubscribed` arrives (the slow-consumer channel after its episode). */
  leaving: boolean;
}

type Message = { type: string; channel?: string; recovered?: boolean; id?: string; data?: { s: number; t: number }; code?: string };

/** `a` > `b` for ids of the Redis stream shape `<ms>-<seq>` (the bench may parse them; clients never need to). */
export function idAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am! > bm! || (am === bm && as! > bs!);
}

export class SoakClient {
  private ws: WebSocket | undefined;
  private closingByUs = false;
  private readonly states = new Map<number, ChannelState>();
  connected = false;

  constructor(private readonly ctx: ClientContext, private readonly base: number[]) {
    for (const c of base) this.states.set(c, { phase: 'idle', lastSeq: 0, lastId: undefined, firstBound: undefined, liveFrom: Infinity, resumed: false, leaving: false });
  }

  /** The channels this client was given (not the slow-consumer channel it may hold for a while). */
  get channels(): number[] {
    return this.base;
  }

  /** Connected, and every channel subscribed or idle (nothing in flight): safe to churn. */
  get quiet(): boolean {
    return this.connected && this.pauseTimer === undefined && [...this.states.values()].every((s) => s.phase === 'active' || s.phase === 'idle');
  }

  get fullySubscribed(): boolean {
    return this.connected && [...this.states.values()].every((s) => s.phase === 'active');
  }

  /** Opens the socket and subscribes every channel: with `since` where it has one and `resume`, else fresh. */
  connect(resume: boolean): Promise<void> {
    if (!resume) for (const s of this.states.values()) Object.assign(s, { lastSeq: 0, lastId: undefined });
    return new Promise((resolve) => {
      const ws = new WebSocket(`${this.ctx.url}/v1/ws?token=${this.ctx.token}`, { perMessageDeflate: false });
      this.ws = ws;
      this.closingByUs = false;
      ws.on('open', () => {
        this.connected = true;
        this.ctx.counters.connects++;
        for (const c of this.states.keys()) this.subscribe(c);
        resolve();
      });
      ws.on('message', (data: Buffer) => this.onMessage(JSON.parse(data.toString('utf8')) as Message));
      ws.on('error', () => {});
      ws.on('close', (code) => this.onClose(code, ws, resolve));
    });
  }

  disconnect(): void {
    this.closingByUs = true;
    this.ws?.close(1000);
  }

  /** Subscribes `c`, resuming with `since` when the channel has seen an event before. */
  subscribe(c: number): void {
    const st = this.states.get(c)!;
    const since = st.lastId;
    st.phase = 'subscribing';
    st.resumed = since !== undefined;
    if (since !== undefined) this.ctx.counters.resumes++;
    else this.ctx.counters.freshSubscribes++;
    this.send(since === undefined ? { type: 'subscribe', channel: `bench-${c}` } : { type: 'subscribe', channel: `bench-${c}`, since });
  }

  unsubscribe(c: number): void {
    this.states.get(c)!.phase = 'unsubscribing';
    this.ctx.counters.unsubscribes++;
    this.send({ type: 'unsubscribe', channel: `bench-${c}` });
  }

  /** Takes on channel `c` (the slow-consumer channel) and subscribes it fresh. */
  addChannel(c: number): void {
    this.states.set(c, { phase: 'idle', lastSeq: 0, lastId: undefined, firstBound: undefined, liveFrom: Infinity, resumed: false, leaving: false });
    if (this.connected) this.subscribe(c);
  }

  /** Unsubscribes channel `c` and forgets it once the server confirms (or at once when idle). */
  removeChannel(c: number): void {
    const st = this.states.get(c);
    if (!st) return;
    if (st.phase === 'active') {
      st.leaving = true;
      this.unsubscribe(c);
    } else if (st.phase === 'idle') this.states.delete(c);
    else setTimeout(() => this.removeChannel(c), 1000).unref();
  }

  isActive(c: number): boolean {
    return this.states.get(c)?.phase === 'active';
  }

  /**
   * Subscribes `c` again if it is idle (a reconnect in between may have done it already): with
   * since, or `fresh` (forgetting where it was; only now, as an idle channel receives nothing).
   */
  resubscribe(c: number, fresh = false): void {
    const st = this.states.get(c)!;
    if (!this.connected || st.phase !== 'idle') return;
    if (fresh) Object.assign(st, { lastSeq: 0, lastId: undefined });
    this.subscribe(c);
  }

  private pauseTimer: NodeJS.Timeout | undefined;
  /** Until this time (epoch ms) the client is, or just was, a slow consumer working off its backlog. */
  private readingSince = 0;

  /** Stops reading the socket for `ms` (the server may cut it with 4008: then it resumes). */
  pause(ms: number): void {
    this.ctx.counters.slowConsumerEpisodes++;
    this.ws?.pause();
    this.readingSince = Infinity;
    this.pauseTimer = setTimeout(() => this.readAgain(), ms);
  }

  readAgain(): void {
    if (this.pauseTimer === undefined) return;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.readingSince = now() + BACKLOG_GRACE_MS;
    this.ws?.resume();
  }

  /** Subscribes every idle channel again (at the end of the soak, so that every channel is checked). */
  resubscribeAll(): void {
    for (const c of this.states.keys()) this.resubscribe(c);
  }

  /** Sequence numbers still missing against `accepted` (the last accepted per channel). */
  shortfall(accepted: Int32Array): number {
    let missing = 0;
    for (const [c, st] of this.states) {
      const last = st.firstBound !== undefined ? st.firstBound - 1 : st.lastSeq;
      missing += Math.max(0, accepted[c]! - last);
    }
    return missing;
  }

  private send(msg: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private onClose(code: number, ws: WebSocket, resolve: () => void): void {
    if (ws !== this.ws) return;
    this.connected = false;
    for (const st of this.states.values()) st.phase = 'idle';
    resolve();
    if (this.closingByUs) return;
    if (code === SLOW_CONSUMER) this.ctx.counters.slowConsumerCloses++;
    else {
      this.ctx.counters.serverCloses++;
      process.stderr.write(`soak: a subscriber was closed with ${code}; it resumes\n`);
    }
    setTimeout(() => void this.connect(true), RECONNECT_DELAY_MS).unref();
  }

  private onMessage(msg: Message): void {
    const c = msg.channel?.startsWith('bench-') ? Number(msg.channel.slice(6)) : -1;
    const st = this.states.get(c);
    if (msg.type === 'event') return this.onEvent(c, st, msg);
    if (msg.type === 'subscribed' && st?.phase === 'subscribing') {
      st.phase = 'active';
      st.liveFrom = now();
      if (st.resumed && msg.recovered === false) this.ctx.counters.unrecovered++;
      // Whatever is sent after the client heard `subscribed` must arrive: the first event is at most this.
      st.firstBound = st.resumed ? undefined : this.ctx.publisher.sent[c]! + 1;
    } else if (msg.type === 'unsubscribed' && st?.phase === 'unsubscribing') {
      st.phase = 'idle';
      if (st.leaving) this.states.delete(c);
    }
    else if (msg.type === 'error') this.ctx.counters.serverErrors++;
    else this.ctx.counters.unexpected++;
  }

  private onEvent(c: number, st: ChannelState | undefined, msg: Message): void {
    const { counters } = this.ctx;
    if (!st || (st.phase !== 'active' && st.phase !== 'unsubscribing') || !msg.data || !msg.id) return void counters.unexpected++;
    const s = msg.data.s;
    if (st.firstBound !== undefined) {
      if (s > st.firstBound) counters.lost += s - st.firstBound;
      st.firstBound = undefined;
    } else if (s <= st.lastSeq) {
      if (s === st.lastSeq) counters.duplicates++;
      else counters.outOfOrder++;
      return;
    } else if (s > st.lastSeq + 1) counters.lost += s - st.lastSeq - 1;
    if (st.lastId !== undefined && !idAfter(msg.id, st.lastId)) counters.idNotIncreasing++;
    const published = this.ctx.publisher.idOf(c, s);
    if (published === undefined) this.ctx.pendingIds.push([c, s, msg.id]);
    else if (published !== null && published !== msg.id) counters.idMismatch++;
    st.lastSeq = s;
    st.lastId = msg.id;
    counters.delivered++;
    // Latency of live events to a client that reads: not replays, not a slow consumer's backlog.
    const t = now();
    if (msg.data.t >= st.liveFrom && t > this.readingSince) this.ctx.recordLatency(t - msg.data.t);
  }
}
