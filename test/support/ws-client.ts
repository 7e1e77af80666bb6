import { WebSocket, type ClientOptions } from 'ws';

export type ServerMessage = Record<string, unknown> & { type: string };

/**
 * A test subscriber: collects every message, lets a test wait for the next
 * one matching a predicate, and records how the socket closed.
 */
export class TestSocket {
  readonly messages: ServerMessage[] = [];
  /** The text of every message, as sent (JSON.parse would round big numbers). */
  readonly raw: string[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private cursor = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.raw.push(data.toString());
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, options: { token?: string; headers?: Record<string, string>; perMessageDeflate?: ClientOptions['perMessageDeflate'] } = {}): Promise<TestSocket> {
    const target = options.token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(options.token)}` : url;
    // ws offers permessage-deflate unless told otherwise; WS_COMPRESSION tests say what to offer.
    const ws = new WebSocket(target, options.perMessageDeflate === undefined ? { headers: options.headers } : { headers: options.headers, perMessageDeflate: options.perMessageDeflate });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already taken) that matches; fails after `timeoutMs`. */
  async next(match: (m: ServerMessage) => boolean = () => true, timeoutMs = 5000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.messages.length) {
        const m = this.messages[this.cursor++]!;
        if (match(m)) return m;
      }
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode} ${this.closeReason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async subscribe(channel: string, since?: string): Promise<ServerMessage> {
    this.send(since === undefined ? { type: 'subscribe', channel } : { type: 'subscribe', channel, since });
    return this.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.channel === channel);
  }

  /** Events of `channel` received so far. */
  events(channel?: string): ServerMessage[] {
    return this.messages.filter((m) => m.type === 'event' && (channel === undefined || m.channel === channel));
  }

  /** Waits until at least `count` events of `channel` have arrived. */
  async waitForEvents(channel: string, count: number, timeoutMs = 10_000): Promise<ServerMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(channel).length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.events(channel).length} of ${count} events on ${channel}`);
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) with ${this.events(channel).length} of ${count} events`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.events(channel);
  }

  async waitClosed(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeCode;
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
