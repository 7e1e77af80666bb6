// Socket.IO 4 + @socket.io/redis-adapter, subscriber side, as its docs set it
// up: a Server with the Redis adapter (pub client and its duplicate), each
// client joins the rooms named by its `channels` query parameter (a, b, c).
// PEER_DEFLATE=on turns on Socket.IO's perMessageDeflate (ws's, per socket).
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sub = pub.duplicate();
for (const client of [pub, sub]) client.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));
const server = createServer((_req, res) => res.writeHead(404).end());
const io = new Server(server, { transports: ['websocket'], adapter: createAdapter(pub, sub), perMessageDeflate: process.env.PEER_DEFLATE === 'on' });
io.on('connection', (socket) => {
  const channels = String(socket.handshake.query.channels ?? 'none').split(',');
  void Promise.resolve(socket.join(channels)).then(() => {
    for (const channel of channels) socket.emit('subscribed', channel);
  });
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
