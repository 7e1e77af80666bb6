// What one subscriber load process checks and measures: per subscriber and
// channel, the publisher's sequence numbers must arrive each once and in
// order; latency (publish → receive, from the send time in the payload) goes
// into an HDR histogram; with `verify`, each event's data is rebuilt and
// compared byte for byte.
import * as hdr from 'hdr-histogram-js';
import type { SubscriberJob, SubscriberResult } from '../lib/ipc.js';
import { eventData } from '../lib/payload.js';

const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
export const now = () => performance.timeOrigin + performance.now();

export class Tracker {
  /** Last sequence number per (subscriber, slot): slot j of subscriber i holds channel (base(i) + j) mod channels. */
  private readonly last: Int32Array;
  private readonly per: number;
  private histogram = newHistogram();
  private readonly perSeq = new Map<number, hdr.Histogram>();
  measuring = false;
  received = 0;
  measured = 0;
  duplicates = 0;
  outOfOrder = 0;
  gaps = 0;
  corrupt = 0;

  constructor(private readonly job: SubscriberJob) {
    this.per = job.perSubscriber;
    this.last = new Int32Array(job.count * this.per);
  }

  private base(i: number): number {
    return ((this.job.first + i) * this.per) % this.job.channels;
  }

  channelsOf(i: number): string[] {
    return Array.from({ length: this.per }, (_, j) => `bench-${(this.base(i) + j) % this.job.channels}`);
  }

  /** Index into `last` of channel number `c` for subscriber `i`, or -1 when it does not hold it. */
  private slot(i: number, c: number): number {
    const j = (c - this.base(i) + this.job.channels) % this.job.channels;
    return j < this.per ? i * this.per + j : -1;
  }

  onEvent(i: number, c: number, seq: number, sentAt: number): void {
    this.received++;
    const k = this.slot(i, c);
    if (k < 0) return void this.outOfOrder++; // an event of a channel it never subscribed: count as wrong
    const prev = this.last[k]!;
    if (seq === prev + 1) this.last[k] = seq;
    else if (seq <= prev) {
      if (seq === prev) this.duplicates++;
      else this.outOfOrder++;
    } else {
      this.gaps += seq - prev - 1;
      this.last[k] = seq;
    }
    const latency = Math.max(1, Math.round((now() - sentAt) * 1000));
    if (this.measuring) {
      this.measured++;
      this.histogram.recordValue(latency);
    }
    if (this.job.perSeq && c === 0) {
      let h = this.perSeq.get(seq);
      if (!h) this.perSeq.set(seq, (h = newHistogram()));
      h.recordValue(latency);
    }
  }

  /**
   * One WebSocket text frame (`{"type":"event","channel":"bench-N",…,"data":{"s":S,"t":T,…},"ts":…}`):
   * read channel, sequence and send time without parsing the JSON, so the generator is not the bottleneck.
   */
  onFrame(i: number, text: string): void {
    const at = text.indexOf('"s":');
    if (at < 0) return; // subscribed, pong, etc.
    const ch = text.indexOf('"channel":"bench-') + 17;
    const c = Number(text.slice(ch, text.indexOf('"', ch)));
    const comma = text.indexOf(',', at);
    const end = text.indexOf(',', comma + 1);
    const seq = Number(text.slice(at + 4, comma));
    const sentAt = Number(text.slice(comma + 5, end));
    if (this.job.verify) {
      const data = text.slice(text.indexOf('"data":') + 7, text.lastIndexOf(',"ts":'));
      if (data !== this.expectedData(seq, sentAt)) this.corrupt++;
    }
    this.onEvent(i, c, seq, sentAt);
  }

  /**
   * A Pusher channel event (`{"event":"e","channel":"bench-N","data":"{\"s\":S,\"t\":T,…}"}`): the data is a JSON
   * string, so its quotes are escaped; read as onFrame does, without parsing, and verified after unescaping.
   */
  onPusherFrame(i: number, text: string): void {
    const at = text.indexOf('\\"s\\":');
    if (at < 0) return; // pusher:pong, errors
    const ch = text.indexOf('"channel":"bench-') + 17;
    const c = Number(text.slice(ch, text.indexOf('"', ch)));
    const comma = text.indexOf(',', at);
    const end = text.indexOf(',', comma + 1);
    const seq = Number(text.slice(at + 6, comma));
    const sentAt = Number(text.slice(comma + 7, end));
    if (this.job.verify) {
      const data = JSON.parse(text.slice(text.indexOf('"data":') + 7, text.lastIndexOf('}'))) as string;
      if (data !== this.expectedData(seq, sentAt)) this.corrupt++;
    }
    this.onEvent(i, c, seq, sentAt);
  }

  /** A Socket.IO event, already parsed by the client. */
  onObject(i: number, msg: { channel: string; data: { s: number; t: number } }): void {
    if (this.job.verify && JSON.stringify(msg.data) !== this.expectedData(msg.data.s, msg.data.t)) this.corrupt++;
    this.onEvent(i, Number(msg.channel.slice(6)), msg.data.s, msg.data.t);
  }

  /** Numbers print back as they were sent (JS prints the shortest round-trip form), so the rebuilt text is exact. */
  private expectedData(seq: number, sentAt: number): string {
    return eventData(this.job.verify!.kind, seq, sentAt, this.job.verify!.dataBytes);
  }

  mark(): void {
    this.measuring = true;
    this.histogram = newHistogram();
    this.measured = 0;
  }

  /** Whether every holder of channel number `c` has seen `seq`. */
  reached(c: number, seq: number): boolean {
    for (let i = 0; i < this.job.count; i++) {
      const k = this.slot(i, c);
      if (k >= 0 && this.last[k]! < seq) return false;
    }
    return true;
  }

  caughtUp(expected: Record<string, number>): boolean {
    return this.shortfall(expected) === 0;
  }

  private shortfall(expected: Record<string, number>): number {
    let missing = 0;
    for (let i = 0; i < this.job.count; i++) {
      for (let j = 0; j < this.per; j++) {
        const c = (this.base(i) + j) % this.job.channels;
        missing += Math.max(0, (expected[`bench-${c}`] ?? 0) - this.last[i * this.per + j]!);
      }
    }
    return missing;
  }

  result(expected: Record<string, number>): Omit<SubscriberResult, 'type' | 'disconnects' | 'bytesRead' | 'cpuMicros' | 'wallMs'> {
    const perSeq = this.job.perSeq
      ? Object.fromEntries([...this.perSeq].map(([seq, h]) => [String(seq), hdr.encodeIntoCompressedBase64(h)]))
      : undefined;
    return {
      received: this.received,
      measured: this.measured,
      lost: this.gaps + this.shortfall(expected),
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      corrupt: this.corrupt,
      histogram: hdr.encodeIntoCompressedBase64(this.histogram),
      perSeq,
    };
  }
}
