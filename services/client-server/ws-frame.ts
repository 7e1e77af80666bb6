import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { BusEvent } from '../common/bus/bus.js';

/**
 * The event's WebSocket text frame (header + payload, unmasked, as a server
 * sends it), built once per event and then written as is to every socket:
 * ws would otherwise compute the header and issue a two-buffer write per socket.
 */
export function wsFrameOf(event: BusEvent): Buffer {
  return (event.wsFrame ??= textFrame(event.frame));
}

/** An unmasked, final text frame around `payload` (RFC 6455 §5.2), as ws's Sender.frame builds it. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) frame[1] = length;
  else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** The TCP socket under a `ws` WebSocket, when ws's internals look as expected; undefined means use `send`. */
export function rawSocketOf(socket: WebSocket): Duplex | undefined {
  const raw = (socket as unknown as { _socket?: Duplex })._socket;
  return raw && typeof raw.write === 'function' && typeof raw.cork === 'function' ? raw : undefined;
}

/**
 * Coalesces what each socket is sent within one event-loop turn into one
 * write: the first write of a turn corks the socket, one setImmediate uncorks
 * every corked socket (so at most one turn of delay, well under 1 ms when the
 * loop keeps up). Also counts deliveries locally and hands the count to
 * `onFlush` once per turn, keeping metric updates off the per-delivery path.
 */
export class WriteBatcher {
  private corked: Duplex[] = [];
  private delivered = 0;
  private scheduled = false;

  constructor(private readonly onFlush: (delivered: number) => void) {}

  write(raw: Duplex, frame: Buffer): void {
    if (raw.writableCorked === 0) {
      raw.cork();
      this.corked.push(raw);
    }
    raw.write(frame);
    this.count();
  }

  /** Counts a delivery made without `write` (the `send` fallback). */
  count(): void {
    this.delivered++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const corked = this.corked;
    this.corked = [];
    for (const raw of corked) raw.uncork();
    const delivered = this.delivered;
    this.delivered = 0;
    if (delivered > 0) this.onFlush(delivered);
  };
}
