// The soak's publisher, inside the driver so that subscribers can check each
// event's id against the id the source-server answered for it. One request
// in flight per channel keeps the per-channel order checkable.
import { Agent, request } from 'node:http';
import { eventData } from '../lib/payload.js';

/** Ids kept per channel, by sequence number: at a few events per channel per second, minutes of history. */
const ID_RING = 2048;
const TICK_MS = 5;

export class PublishLoop {
  /** Highest sequence number whose request was sent, per channel (accepted or not yet answered). */
  readonly sent: Int32Array;
  /** Highest sequence number accepted (200), per channel. */
  readonly accepted: Int32Array;
  private readonly ids: string[][];
  private readonly due: Float64Array;
  private readonly busy: Uint8Array;
  private readonly agent: Agent;
  private readonly target: URL;
  private timer: NodeJS.Timeout | undefined;
  published = 0;
  failed = 0;

  /** Channel number of the slow-consumer channel: not in the steady rate, only in bursts. */
  readonly slowChannel: number;

  constructor(private readonly o: { publishUrl: string; key: string; channels: number; rate: number; dataBytes: number; slowBytes: number }) {
    const all = o.channels + 1;
    this.slowChannel = o.channels;
    this.sent = new Int32Array(all);
    this.accepted = new Int32Array(all);
    this.ids = Array.from({ length: all }, () => new Array<string>(ID_RING));
    this.due = new Float64Array(all);
    this.busy = new Uint8Array(all);
    this.agent = new Agent({ keepAlive: true, maxSockets: all });
    this.target = new URL(o.publishUrl);
  }

  start(): void {
    let last = performance.now();
    this.timer = setInterval(() => {
      const t = performance.now();
      // Each channel gets its share of the rate; a busy channel's due events wait for its request.
      const share = (((t - last) / 1000) * this.o.rate) / this.o.channels;
      last = t;
      for (let c = 0; c < this.o.channels; c++) {
        this.due[c]! += share;
        this.pump(c);
      }
    }, TICK_MS);
  }

  /** `n` more events on the slow-consumer channel, as fast as one request in flight allows. */
  burst(n: number): void {
    this.due[this.slowChannel]! += n;
    this.pump(this.slowChannel);
  }

  /** Stops sending; resolves once every request in flight has its answer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.due.fill(0);
    while (this.busy.some(Boolean)) await new Promise((r) => setTimeout(r, 10));
    this.agent.destroy();
  }

  /** The id the source-server answered for sequence `s` of channel `c`; undefined when not answered yet or too old. */
  idOf(c: number, s: number): string | undefined | null {
    if (s > this.accepted[c]!) return undefined;
    if (s <= this.accepted[c]! - ID_RING) return null;
    return this.ids[c]![s % ID_RING];
  }

  private pump(c: number): void {
    if (this.busy[c] || this.due[c]! < 1) return;
    this.busy[c] = 1;
    const s = this.accepted[c]! + 1;
    this.sent[c] = s;
    const bytes = c === this.slowChannel ? this.o.slowBytes : this.o.dataBytes;
    const body = eventData('padding', s, performance.timeOrigin + performance.now(), bytes);
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), authorization: `Bearer ${this.o.key}` };
    const req = request({ host: this.target.hostname, port: this.target.port, method: 'POST', path: `/v1/channels/bench-${c}/events`, headers, agent: this.agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        this.busy[c] = 0;
        if (res.statusCode === 200) {
          // Only an accepted event consumes a sequence number; a refused one is sent again.
          this.ids[c]![s % ID_RING] = (JSON.parse(text) as { id: string }).id;
          this.accepted[c] = s;
          this.due[c]!--;
          this.published++;
        } else this.failed++;
        this.pump(c);
      });
    });
    req.on('error', () => {
      this.busy[c] = 0;
      this.failed++;
    });
    req.end(body);
  }
}
