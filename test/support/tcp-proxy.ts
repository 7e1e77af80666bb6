import { createServer, createConnection, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of Redis that a test can cut and restore,
 * so that one connection (the bus's subscriber) drops while Redis itself,
 * and every other connection, stays up.
 */
export interface TcpProxy {
  readonly port: number;
  /** Destroys every proxied connection and refuses new ones until `restore()`. */
  cut(): void;
  /**
   * Silently stops forwarding Redis's side of the open connections (those
   * whose client sent `marker`, e.g. a CLIENT SETNAME name, when given):
   * they stay open and look healthy, but deliver nothing, like a half-open
   * connection behind a NAT. New connections work normally. Returns how many
   * were stalled.
   */
  stall(marker?: string): number;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket; sent: string }>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const pair = { client, upstream, sent: '' };
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    // The first bytes a client sends (AUTH, CLIENT SETNAME...) say which connection it is.
    client.on('data', (chunk: Buffer) => {
      if (pair.sent.length < 4096) pair.sent += chunk.toString('latin1');
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    stall(marker) {
      let stalled = 0;
      for (const pair of pairs) {
        if (marker !== undefined && !pair.sent.includes(marker)) continue;
        pair.upstream.unpipe(pair.client);
        pair.upstream.pause();
        stalled++;
      }
      return stalled;
    },
    restore() {
      open = true;
    },
    async close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
