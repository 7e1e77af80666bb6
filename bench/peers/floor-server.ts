// The bare floor, subscriber side: one `ws` server; each Redis message is
// forwarded as is (serialized once, by the publisher) to every socket of its
// channel with one `send` per socket. No auth, no history, no ordering checks:
// the least work a Redis-backed relay can do, which is what makes it a floor.
// PEER_DEFLATE=on turns on ws's own perMessageDeflate: each socket compresses
// each message itself (one zlib stream per socket), the usual way to compress.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const sub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
sub.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));
const channels = new Map<string, Set<WebSocket>>();

sub.on('messageBuffer', (topic: Buffer, message: Buffer) => {
  const sockets = channels.get(topic.toString());
  if (!sockets) return;
  for (const socket of sockets) socket.send(message, { binary: false });
});

const server = createServer((_req, res) => res.writeHead(404).end());
// ws's defaults otherwise (threshold 1024 bytes); a client's no_context_takeover offer is accepted.
const wss = new WebSocketServer({ server, perMessageDeflate: process.env.PEER_DEFLATE === 'on' });
/** Channels whose Redis SUBSCRIBE is under way or done. */
const subscribing = new Map<string, Promise<unknown>>();

function join(channel: string, socket: WebSocket): Promise<unknown> {
  let set = channels.get(channel);
  if (!set) channels.set(channel, (set = new Set()));
  set.add(socket);
  let ready = subscribing.get(channel);
  if (!ready) subscribing.set(channel, (ready = sub.subscribe(channel)));
  return ready;
}

wss.on('connection', (socket, request) => {
  // `?channels=a,b,c`: the channels this socket holds, all at once.
  const names = (new URL(request.url ?? '/', 'http://x').searchParams.get('channels') ?? 'none').split(',');
  socket.on('close', () => {
    for (const name of names) channels.get(name)?.delete(socket);
  });
  socket.on('error', () => {});
  // Same contract as eventrelay's `subscribed`: live from the moment the client hears it, one per channel.
  for (const name of names) void join(name, socket).then(() => socket.send(`{"type":"subscribed","channel":"${name}"}`));
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
