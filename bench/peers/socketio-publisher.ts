// Socket.IO 4 + @socket.io/redis-adapter, publishing side: a node:http
// endpoint that emits to a room through a Server that has the Redis adapter
// and no clients of its own, so every emit goes out through Redis.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sub = pub.duplicate();
for (const client of [pub, sub]) client.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));
const io = new Server({ adapter: createAdapter(pub, sub) });

const server = createServer((req, res) => {
  const channel = req.url?.startsWith('/c/') ? req.url.slice(3) : undefined;
  if (req.method !== 'POST' || !channel) return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const data: unknown = JSON.parse(Buffer.concat(chunks).toString());
    io.to(channel).emit('event', { type: 'event', channel, data, ts: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
