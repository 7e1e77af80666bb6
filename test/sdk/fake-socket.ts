import type { SocketCloseInfo, SocketFactory, SocketLike } from '../../sdk/src/index.js';

/** A WebSocket whose server side the test plays by hand. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  closedByClient?: number;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: SocketCloseInfo) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1005): void {
    this.closedByClient = code;
    this.readyState = 3;
  }

  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  reply(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The server (or the network) ends the connection; `details` as a transport that sees them (ws) reports them. */
  drop(code: number, details: Partial<SocketCloseInfo> = {}): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '', ...details });
  }

  get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }
}

/** Hands out FakeSockets and lets a test wait for the client's next connection attempt. */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  private waiters: ((s: FakeSocket) => void)[] = [];

  readonly factory: SocketFactory = (url) => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    for (const resolve of this.waiters.splice(0)) resolve(socket);
    return socket;
  };

  /** The connection attempt number `n` (0-based), once the client has made it and attached its handlers. */
  async attempt(n: number): Promise<FakeSocket> {
    const socket = await this.created(n);
    await tick();
    return socket;
  }

  private created(n: number): Promise<FakeSocket> {
    const existing = this.sockets[n];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const check = (): void => {
        const s = this.sockets[n];
        if (s) resolve(s);
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
}

export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
