// The bare floor, publisher side: node:http → one Redis PUBLISH of the frame,
// serialized once here. Auto-pipelining batches PUBLISHes issued in one tick.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 0);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
redis.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));

const server = createServer((req, res) => {
  const channel = req.url?.startsWith('/c/') ? req.url.slice(3) : undefined;
  if (req.method !== 'POST' || !channel) return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const frame = `{"type":"event","channel":"${channel}","data":${Buffer.concat(chunks).toString()},"ts":${Date.now()}}`;
    redis.publish(channel, frame).then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
