// Opens one bench subscriber on a target and resolves once every one of its
// channels answered `subscribed`. Every TCP socket is made by one counting
// agent, so that bytes on the wire can be read per socket (socket.bytesRead:
// what TCP handed up, frames as they arrived, compressed or not).
import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { io as ioClient } from 'socket.io-client';
import { WebSocket } from 'ws';
import type { SubscriberJob } from '../lib/ipc.js';
import type { Tracker } from './tracker.js';

/** What the client offers when `deflate` is on: fresh zlib context per message on both sides, as the issue asks. */
const DEFLATE_OFFER = { serverNoContextTakeover: true, clientNoContextTakeover: true };
/** Socket.IO's client default threshold, kept: engine.io compresses only messages at least this long. */
const SOCKETIO_THRESHOLD = 1024;

/** An http.Agent that remembers every socket it made. */
export class CountingAgent extends Agent {
  readonly made: Duplex[] = [];

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket) this.made.push(socket);
    return socket;
  }

  bytesRead(): number {
    let n = 0;
    for (const socket of this.made) n += (socket as Duplex & { bytesRead?: number }).bytesRead ?? 0;
    return n;
  }
}

export interface Opened {
  close(): void;
  /** Whether permessage-deflate was negotiated. */
  deflated: boolean;
}

export interface ConnectContext {
  job: SubscriberJob;
  tracker: Tracker;
  agent: CountingAgent;
  onDisconnect(): void;
}

export function openSubscriber(ctx: ConnectContext, i: number): Promise<Opened> {
  return ctx.job.target === 'socketio' ? openSocketIo(ctx, i) : openWs(ctx, i);
}

function openWs({ job, tracker, agent, onDisconnect }: ConnectContext, i: number): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const channels = tracker.channelsOf(i);
    const base = job.urls[i % job.urls.length]!;
    const url =
      job.target === 'floor' ? `${base}/?channels=${channels.join(',')}` : job.target === 'pusher' ? `${base}/app/${job.pusherApp!.key}?protocol=7&client=bench` : `${base}/v1/ws?token=${job.token}`;
    // What says "this channel is live" in each protocol.
    const ack = job.target === 'pusher' ? '{"event":"pusher_internal:subscription_succeeded"' : '{"type":"subscribed"';
    const ws = new WebSocket(url, { perMessageDeflate: job.deflate ? DEFLATE_OFFER : false, agent, localAddress: job.localAddress });
    let pending = channels.length;
    let closing = false;
    const opened: Opened = {
      deflated: false,
      close: () => {
        closing = true;
        ws.terminate();
      },
    };
    ws.on('open', () => {
      opened.deflated = ws.extensions.includes('permessage-deflate');
      if (job.target === 'eventrelay') for (const channel of channels) ws.send(`{"type":"subscribe","channel":"${channel}"}`);
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('latin1');
      if (pending > 0 && text.startsWith(ack)) {
        if (--pending === 0) resolve(opened);
      } else if (job.target === 'pusher') {
        // A Pusher client subscribes once the handshake gave it a socket_id; public channels need no auth.
        if (text.startsWith('{"event":"pusher:connection_established"')) {
          for (const channel of channels) ws.send(`{"event":"pusher:subscribe","data":{"auth":"","channel":"${channel}"}}`);
        } else tracker.onPusherFrame(i, text);
      } else tracker.onFrame(i, text);
    });
    ws.on('error', (err) => (pending > 0 ? reject(err) : undefined));
    ws.on('close', () => (closing ? undefined : onDisconnect()));
  });
}

function openSocketIo({ job, tracker, agent, onDisconnect }: ConnectContext, i: number): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const channels = tracker.channelsOf(i);
    const socket = ioClient(job.urls[i % job.urls.length]!, {
      transports: ['websocket'],
      query: { channels: channels.join(',') },
      reconnection: false,
      // engine.io-client hands these to ws; its types know neither an Agent instance nor the ws offer fields.
      agent: agent as unknown as string,
      localAddress: job.localAddress,
      perMessageDeflate: (job.deflate ? { threshold: SOCKETIO_THRESHOLD, ...DEFLATE_OFFER } : false) as { threshold: number },
    } as Parameters<typeof ioClient>[1]);
    let pending = channels.length;
    let closing = false;
    const opened: Opened = {
      deflated: false,
      close: () => {
        closing = true;
        socket.disconnect();
      },
    };
    socket.on('subscribed', () => {
      if (--pending > 0) return;
      // The ws WebSocket under engine.io's transport: private, read only to report what was negotiated.
      const ws = (socket.io.engine.transport as unknown as { ws?: { extensions?: string } }).ws;
      opened.deflated = Boolean(ws?.extensions?.includes('permessage-deflate'));
      resolve(opened);
    });
    socket.on('event', (msg: { channel: string; data: { s: number; t: number } }) => tracker.onObject(i, msg));
    socket.on('connect_error', reject);
    socket.on('disconnect', () => (closing ? undefined : onDisconnect()));
  });
}
