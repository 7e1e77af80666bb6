import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { encodeEventMessage } from '../../../protocol/event-message.js';
import type { OutboundEvent } from '../../outbound-event.js';

/**
 * The event's WebSocket text frame (header + payload, unmasked, as a server
 * sends it), built once per event in one allocation and then written as is
 * to every socket: ws would otherwise compute the header and issue a
 * two-buffer write per socket.
 */
export function wsFrameOf(event: OutboundEvent): Buffer {
  return (event.wire.ws ??= eventTextFrame(event));
}

/** RFC 6455 §5.2 header length for a payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

function eventTextFrame(event: OutboundEvent): Buffer {
  // The header's size depends on the payload's, which is known only once encoded; reserve the
  // most a header can take, then use the tail of the reservation.
  const encoded = encodeEventMessage(event.event, 10);
  const length = encoded.length - 10;
  const start = 10 - headerLength(length);
  writeFrameHeader(encoded, start, length, false);
  return encoded.subarray(start);
}

/** An unmasked, final text frame around `payload` (RFC 6455 §5.2), as ws's Sender.frame builds it. */
export function textFrame(payload: Buffer): Buffer {
  const header = headerLength(payload.length);
  const frame = Buffer.allocUnsafe(header + payload.length);
  writeFrameHeader(frame, 0, payload.length, false);
  payload.copy(frame, header);
  return frame;
}

/** FIN + opcode 1 (text); with RSV1 (0x40) when the payload is deflated (RFC 7692 §6). */
export function writeFrameHeader(frame: Buffer, at: number, length: number, compressed: boolean): void {
  frame[at] = compressed ? 0xc1 : 0x81;
  if (length < 126) frame[at + 1] = length;
  else if (length < 65536) {
    frame[at + 1] = 126;
    frame.writeUInt16BE(length, at + 2);
  } else {
    frame[at + 1] = 127;
    frame.writeBigUInt64BE(BigInt(length), at + 2);
  }
}

/** The TCP socket under a `ws` WebSocket, when ws's internals look as expected; undefined means use `send`. */
export function rawSocketOf(socket: WebSocket): Duplex | undefined {
  const raw = (socket as unknown as { _socket?: Duplex })._socket;
  return raw && typeof raw.write === 'function' && typeof raw.cork === 'function' ? raw : undefined;
}

/** The payload of a frame built here (the event's JSON message), without copying. */
export function framePayload(frame: Buffer): Buffer {
  const marker = frame[1]! & 0x7f;
  return frame.subarray(marker === 126 ? 4 : marker === 127 ? 10 : 2);
}
