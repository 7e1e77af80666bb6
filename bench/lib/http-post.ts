// One publish from the orchestrator itself (the connections section's
// broadcasts: a single event, so no load generator is needed).
import { request } from 'node:http';
import type { RunningTarget } from './targets.js';

/** POSTs `body` as one event on `channel`; resolves with the status code. */
export function postEvent(target: RunningTarget, channel: string, body: string): Promise<number> {
  if (target.kind === 'pusher') throw new Error('the connections section has no pusher target; use --targets eventrelay,floor there');
  const url = new URL(target.publishUrl);
  const path = target.kind === 'eventrelay' ? `/v1/channels/${channel}/events` : `/c/${channel}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  if (target.key) headers.authorization = `Bearer ${target.key}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
