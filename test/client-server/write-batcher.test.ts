import { Writable } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { TURN_FLUSH_SOCKETS, WriteBatcher, type WriteOutlet } from '../../services/client-server/transports/ws/write-batcher.js';

/** A real stream that records each write it is given (one entry per write call). */
function recordingSocket(): Writable & { writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _enc, done) {
      done();
    },
  }) as Writable & { writes: Buffer[] };
  const write = socket.write.bind(socket);
  socket.write = ((chunk: Buffer) => {
    writes.push(Buffer.from(chunk));
    return write(chunk);
  }) as typeof socket.write;
  socket.writes = writes;
  return socket;
}

function outletOf(socket: Writable): WriteOutlet {
  return { held: null, heldBytes: 0, outletSocket: () => (socket.destroyed ? undefined : (socket as never)) };
}

const frame = (text: string) => Buffer.from(text);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const joined = (socket: { writes: Buffer[] }) => Buffer.concat(socket.writes).toString();

afterEach(() => {
  vi.useRealTimers();
});

describe('WRITE_DELAY_MS=0', () => {
  test("writes a socket's frames of one turn in one write when the turn ends, in order", async () => {
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const counts: number[] = [];
    const batcher = new WriteBatcher({ writeDelayMs: 0, writeMaxBytes: 65536 }, (n) => counts.push(n));
    for (const text of ['a', 'b', 'c']) batcher.write(outlet, socket as never, frame(text));
    expect(socket.writes).toEqual([]);
    await nextTurn();
    expect(socket.writes.map(String)).toEqual(['abc']);
    expect(counts).toEqual([3]);
    batcher.write(outlet, socket as never, frame('d'));
    await nextTurn();
    expect(socket.writes.map(String)).toEqual(['abc', 'd']);
  });

  test('a broadcast does not keep its first receivers waiting for the whole loop: every TURN_FLUSH_SOCKETS sockets leave at once', () => {
    const sockets = Array.from({ length: TURN_FLUSH_SOCKETS * 2 + 1 }, () => recordingSocket());
    const outlets = sockets.map(outletOf);
    const batcher = new WriteBatcher({ writeDelayMs: 0, writeMaxBytes: 65536 }, () => {});
    sockets.forEach((socket, i) => batcher.write(outlets[i]!, socket as never, frame('e')));
    expect(sockets.filter((s) => s.writes.length === 1).length).toBe(TURN_FLUSH_SOCKETS * 2);
    expect(sockets.at(-1)!.writes).toEqual([]);
  });

  test('a flush (before a reply or a close frame) sends what is held first, in order', () => {
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const batcher = new WriteBatcher({ writeDelayMs: 0, writeMaxBytes: 65536 }, () => {});
    for (const text of ['1', '2', '3']) batcher.write(outlet, socket as never, frame(text));
    batcher.flush(outlet);
    socket.write(frame('reply'));
    expect(joined(socket)).toBe('123reply');
  });
});

describe('WRITE_DELAY_MS>0', () => {
  test('holds every frame and writes them in one write, in order, once the delay has passed and not before', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const batcher = new WriteBatcher({ writeDelayMs: 20, writeMaxBytes: 65536 }, () => {});
    batcher.write(outlet, socket as never, frame('a'));
    vi.advanceTimersByTime(10);
    batcher.write(outlet, socket as never, frame('b'));
    vi.advanceTimersByTime(9);
    expect(socket.writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.writes.map(String)).toEqual(['ab']);
  });

  test('a frame that would take what is held past WRITE_MAX_BYTES first writes what is held; no write is larger than the cap', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const batcher = new WriteBatcher({ writeDelayMs: 50, writeMaxBytes: 1024 }, () => {});
    const frames = Array.from({ length: 10 }, (_, i) => frame(String(i).repeat(300)));
    for (const f of frames) batcher.write(outlet, socket as never, f);
    expect(socket.writes.map((w) => w.length)).toEqual([900, 900, 900]);
    vi.advanceTimersByTime(50);
    expect(socket.writes.map((w) => w.length)).toEqual([900, 900, 900, 300]);
    expect(joined(socket)).toBe(Buffer.concat(frames).toString());
  });

  test('held bytes are not in the socket, so they never count as unsent data for the slow-consumer guard', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const stuck = new Writable({ write: () => {} }); // never completes a write: a peer that stopped reading
    const outlet = outletOf(stuck);
    const batcher = new WriteBatcher({ writeDelayMs: 20, writeMaxBytes: 65536 }, () => {});
    for (let i = 0; i < 10; i++) batcher.write(outlet, stuck as never, Buffer.alloc(1000));
    expect(stuck.writableLength).toBe(0);
    expect(outlet.heldBytes).toBe(10_000);
    // Once written, the peer's unread bytes do count: a slow socket still looks slow.
    vi.advanceTimersByTime(20);
    expect(stuck.writableLength).toBe(10_000);
  });

  test('a timer held back by a busy loop does not hold frames past the delay: the next write sends them', () => {
    let clock = 0;
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const batcher = new WriteBatcher({ writeDelayMs: 20, writeMaxBytes: 65536 }, () => {}, () => clock);
    batcher.write(outlet, socket as never, frame('a'));
    clock = 19;
    batcher.write(outlet, socket as never, frame('b'));
    expect(socket.writes).toEqual([]);
    clock = 25; // the timer has not run: the loop was busy
    batcher.write(outlet, socket as never, frame('c'));
    expect(socket.writes.map(String)).toEqual(['ab']);
  });

  test('frames held for a socket that closed are dropped, not written after its close', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const socket = recordingSocket();
    const outlet = outletOf(socket);
    const batcher = new WriteBatcher({ writeDelayMs: 20, writeMaxBytes: 65536 }, () => {});
    batcher.write(outlet, socket as never, frame('a'));
    socket.destroy();
    vi.advanceTimersByTime(20);
    expect(socket.writes).toEqual([]);
  });
});
