// The bare floor, subscriber side: one `ws` server; each Redis message is
// forwarded as is (serialized once, by the publisher) to every socket of its
// channel with one `send` per socket. No auth, no history, no ordering checks:
// the least work a Redis-backed relay can do, which is what makes it a floor.
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
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket, request) => {
  const channel = new URL(request.url ?? '/', 'http://x').searchParams.get('channel') ?? 'none';
  let set = channels.get(channel);
  const ready = set ? Promise.resolve() : sub.subscribe(channel).then(() => undefined);
  if (!set) channels.set(channel, (set = new Set()));
  set.add(socket);
  socket.on('close', () => set.delete(socket));
  socket.on('error', () => {});
  // Same contract as eventrelay's `subscribed`: live from the moment the client hears this.
  void ready.then(() => socket.send('{"type":"subscribed"}'));
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
