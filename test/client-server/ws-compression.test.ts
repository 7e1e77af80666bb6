import { connect, type Socket } from 'node:net';
import { constants, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { OutboundEvent } from '../../services/client-server/outbound-event.js';
import { deflatedFrameOf, negotiateDeflate } from '../../services/client-server/transports/ws/ws-deflate.js';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

describe('negotiateDeflate (RFC 7692 §7.1, as the server)', () => {
  test('accepts a plain offer with no context takeover on both sides', () => {
    expect(negotiateDeflate('permessage-deflate')).toEqual({
      windowBits: 15,
      offer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    });
  });

  test("client_max_window_bits (a browser's offer) is answered with a small client window; with a value, never above it", () => {
    expect(negotiateDeflate('permessage-deflate; client_max_window_bits')?.offer).toMatch(/; client_max_window_bits=10$/);
    expect(negotiateDeflate('permessage-deflate; client_max_window_bits=9')?.offer).toMatch(/; client_max_window_bits=9$/);
    expect(negotiateDeflate('permessage-deflate; client_max_window_bits="12"')?.offer).toMatch(/; client_max_window_bits=10$/);
    // 8 is left unanswered: the client keeps to it and we inflate with the full window.
    expect(negotiateDeflate('permessage-deflate; client_max_window_bits=8')?.offer).not.toMatch(/client_max_window_bits/);
  });

  test('server_max_window_bits caps our window; 8 (which zlib cannot make) and bad values decline that offer', () => {
    expect(negotiateDeflate('permessage-deflate; server_max_window_bits=10')).toEqual({
      windowBits: 10,
      offer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
    });
    expect(negotiateDeflate('permessage-deflate; server_max_window_bits=8')).toBeUndefined();
    expect(negotiateDeflate('permessage-deflate; server_max_window_bits=16')).toBeUndefined();
    expect(negotiateDeflate('permessage-deflate; server_max_window_bits')).toBeUndefined();
  });

  test('an offer with an unknown or repeated parameter is declined and the next offer is taken', () => {
    expect(negotiateDeflate('permessage-deflate; foo=1')).toBeUndefined();
    expect(negotiateDeflate('permessage-deflate; server_no_context_takeover; server_no_context_takeover')).toBeUndefined();
    expect(negotiateDeflate('permessage-deflate; server_no_context_takeover=1')).toBeUndefined();
    expect(negotiateDeflate('permessage-deflate; foo, permessage-deflate; server_max_window_bits=12')?.windowBits).toBe(12);
    expect(negotiateDeflate(['x-webkit-deflate-frame', 'permessage-deflate'])?.windowBits).toBe(15);
    expect(negotiateDeflate('x-webkit-deflate-frame')).toBeUndefined();
    expect(negotiateDeflate(undefined)).toBeUndefined();
  });
});

function orderEvent(id: string): OutboundEvent {
  const orders = Array.from({ length: 12 }, (_, i) => ({ id: `ord-${i}`, sku: `SKU-${i * 37}`, qty: i + 1, price: (i * 3.17).toFixed(2), side: i % 2 ? 'buy' : 'sell' }));
  return new OutboundEvent({ channel: 'orders', id, ts: 1, data: Buffer.from(JSON.stringify({ orders })), position: id } as never);
}

/** The payload of one server frame (unmasked), with its first byte. */
function parseFrame(frame: Buffer): { first: number; payload: Buffer } {
  const marker = frame[1]! & 0x7f;
  const start = marker === 126 ? 4 : marker === 127 ? 10 : 2;
  return { first: frame[0]!, payload: frame.subarray(start) };
}

const inflate = (payload: Buffer, windowBits = 15) =>
  inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits, finishFlush: constants.Z_SYNC_FLUSH });

describe('deflatedFrameOf', () => {
  test('compresses an event once for every window that holds it, sets RSV1, and inflates to the uncompressed JSON', () => {
    const event = orderEvent('1-0');
    const frame = deflatedFrameOf(event, 15);
    expect(deflatedFrameOf(event, 12)).toBe(frame);
    const { first, payload } = parseFrame(frame);
    expect(first).toBe(0xc1);
    // RFC 7692 §7.2.1: the sync flush's empty block is not sent.
    expect(payload.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
    expect(payload.length).toBeLessThan(parseFrame(event.wire.ws!).payload.length / 2);
    expect(inflate(payload, 10).equals(parseFrame(event.wire.ws!).payload)).toBe(true);
  });

  test('a small event goes uncompressed (RSV1 0): the same frame as for a socket without compression', () => {
    const event = new OutboundEvent({ channel: 'c', id: '1-0', ts: 1, data: Buffer.from('{"a":1}'), position: '1-0' } as never);
    expect(deflatedFrameOf(event, 15)[0]).toBe(0x81);
  });
});

let server: ClientFixture | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A WebSocket handshake by hand, so that the test sees the server's answer and frames as they are on the wire. */
async function rawUpgrade(url: string, extensions?: string): Promise<{ socket: Socket; headers: string; frames: Buffer[] }> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect(Number(port), hostname);
  const lines = [`GET ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  if (extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const frames: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let headers: string | undefined;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (headers === undefined) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        headers = pending.subarray(0, end).toString();
        pending = pending.subarray(end + 4);
        resolve();
      }
      for (;;) {
        if (pending.length < 2) return;
        const marker = pending[1]! & 0x7f;
        const start = marker === 126 ? 4 : marker === 127 ? 10 : 2;
        if (pending.length < start) return;
        const length = marker === 126 ? pending.readUInt16BE(2) : marker === 127 ? Number(pending.readBigUInt64BE(2)) : marker;
        if (pending.length < start + length) return;
        frames.push(pending.subarray(0, start + length));
        pending = pending.subarray(start + length);
      }
    });
  });
  return { socket, headers: headers!, frames };
}

/** A masked client text frame. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  return Buffer.concat([header, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const bigData = { orders: Array.from({ length: 20 }, (_, i) => ({ id: `ord-${i}`, price: (i * 1.5).toFixed(2), side: i % 2 ? 'buy' : 'sell', note: 'limit order' })) };

describe('WS_COMPRESSION=on', () => {
  test('a client that offers permessage-deflate gets it with no context takeover, and events with RSV1 that inflate to the JSON an uncompressed client gets', async () => {
    server = await startClientServer({ WS_COMPRESSION: 'on' });
    const token = server.token(['*']);
    const plain = await TestSocket.open(server.wsUrl, { token, perMessageDeflate: false });
    await plain.subscribe('orders');
    const raw = await rawUpgrade(`${server.wsUrl}?token=${token}`, 'permessage-deflate; client_max_window_bits');
    const extension = /sec-websocket-extensions: (.*)/i.exec(raw.headers)?.[1];
    expect(extension).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10');
    raw.socket.write(clientFrame(JSON.stringify({ type: 'subscribe', channel: 'orders' })));
    await until(() => raw.frames.length === 1, 'subscribed');
    expect(parseFrame(raw.frames[0]!).first).toBe(0x81); // control replies go uncompressed
    await server.publish('orders', bigData);
    await server.publish('orders', bigData);
    await until(() => raw.frames.length === 3, 'two events');
    await plain.waitForEvents('orders', 2);
    for (const [i, frame] of raw.frames.slice(1).entries()) {
      const { first, payload } = parseFrame(frame);
      expect(first).toBe(0xc1);
      expect(inflate(payload).toString()).toBe(plain.raw[i + 1]);
    }
    raw.socket.destroy();
    plain.close();
  });

  test('server_max_window_bits in the offer is honoured: the frames inflate with that window', async () => {
    server = await startClientServer({ WS_COMPRESSION: 'on' });
    const token = server.token(['*']);
    const raw = await rawUpgrade(`${server.wsUrl}?token=${token}`, 'permessage-deflate; server_max_window_bits=9');
    expect(raw.headers).toMatch(/sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9\r?$/im);
    raw.socket.write(clientFrame(JSON.stringify({ type: 'subscribe', channel: 'orders' })));
    await until(() => raw.frames.length === 1, 'subscribed');
    await server.publish('orders', bigData);
    await until(() => raw.frames.length === 2, 'the event');
    const { first, payload } = parseFrame(raw.frames[1]!);
    expect(first).toBe(0xc1);
    expect(JSON.parse(inflate(payload, 9).toString()).data).toEqual(bigData);
    raw.socket.destroy();
  });

  test('offers it cannot take (an unknown parameter, a window of 8) are declined, not refused: the socket works uncompressed', async () => {
    server = await startClientServer({ WS_COMPRESSION: 'on' });
    const token = server.token(['*']);
    for (const offer of ['permessage-deflate; no_such_param', 'permessage-deflate; server_max_window_bits=8']) {
      const raw = await rawUpgrade(`${server.wsUrl}?token=${token}`, offer);
      expect(raw.headers).toMatch(/^HTTP\/1.1 101/);
      expect(raw.headers).not.toMatch(/sec-websocket-extensions/i);
      raw.socket.write(clientFrame(JSON.stringify({ type: 'subscribe', channel: 'orders' })));
      await until(() => raw.frames.length === 1, 'subscribed');
      raw.socket.destroy();
    }
  });

  test('a client that does not offer it gets uncompressed frames', async () => {
    server = await startClientServer({ WS_COMPRESSION: 'on' });
    const raw = await rawUpgrade(`${server.wsUrl}?token=${server.token(['*'])}`);
    expect(raw.headers).not.toMatch(/sec-websocket-extensions/i);
    raw.socket.write(clientFrame(JSON.stringify({ type: 'subscribe', channel: 'orders' })));
    await until(() => raw.frames.length === 1, 'subscribed');
    await server.publish('orders', bigData);
    await until(() => raw.frames.length === 2, 'the event');
    expect(parseFrame(raw.frames[1]!).first).toBe(0x81);
    raw.socket.destroy();
  });

  test("ws's own client negotiates, compresses what it sends, and reads every event back as sent", async () => {
    server = await startClientServer({ WS_COMPRESSION: 'on' });
    const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*']), perMessageDeflate: { threshold: 0 } });
    expect(socket.ws.extensions).toMatch(/permessage-deflate/);
    await socket.subscribe('orders');
    for (let i = 0; i < 20; i++) await server.publish('orders', { i, ...bigData });
    const events = await socket.waitForEvents('orders', 20);
    expect(events.map((m) => (m.data as { i: number }).i)).toEqual([...Array(20).keys()]);
    // Every compressed client message is inflated, also after the server let go of the previous one's zlib stream.
    for (let i = 0; i < 5; i++) {
      socket.send({ type: 'subscribe', channel: `more-${i}`, padding: 'p'.repeat(200) });
      expect((await socket.next((m) => m.type === 'subscribed' || m.type === 'error')).channel).toBe(`more-${i}`);
    }
    socket.close();
  });
});

test('WS_COMPRESSION=off (the default) answers an offer without the extension', async () => {
  server = await startClientServer();
  const raw = await rawUpgrade(`${server.wsUrl}?token=${server.token(['*'])}`, 'permessage-deflate; client_max_window_bits');
  expect(raw.headers).toMatch(/^HTTP\/1.1 101/);
  expect(raw.headers).not.toMatch(/sec-websocket-extensions/i);
  raw.socket.destroy();
});
