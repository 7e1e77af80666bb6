/**
 * The frame codec: the WebSocket `event` message, the one thing sent
 * millions of times, built once per event from its parts:
 *   {"type":"event","channel":"<c>","id":"<id>","data":<data>,"ts":<ts>[,"publisher":<json string>]}
 * Channel names and ids cannot contain characters JSON would escape, and
 * `data` is already single-line JSON text, so only `publisher` (a token's
 * `sub`, chosen by whoever issues tokens) is escaped.
 */
export interface EventParts {
  channel: string;
  id: string;
  /** The source's receive time, ms since the epoch. */
  ts: number;
  /** The event's data: single-line JSON text, as the producer wrote it. */
  data: Buffer;
  /** PROTOCOL.md v1.1: the `sub` of the client that published it, when a client did. */
  publisher?: string;
}

/**
 * The message's bytes, preceded by `headroom` uninitialised bytes that the
 * caller fills (a WebSocket frame header), so that a transport's whole frame
 * is one allocation and one copy of the data.
 */
export function encodeEventMessage(event: EventParts, headroom = 0): Buffer {
  const head = `{"type":"event","channel":"${event.channel}","id":"${event.id}","data":`;
  const tail = event.publisher === undefined ? `,"ts":${event.ts}}` : `,"ts":${event.ts},"publisher":${JSON.stringify(event.publisher)}}`;
  const headBytes = Buffer.byteLength(head);
  const tailBytes = Buffer.byteLength(tail);
  const out = Buffer.allocUnsafe(headroom + headBytes + event.data.length + tailBytes);
  let at = headroom;
  at += out.write(head, at, 'utf8');
  at += event.data.copy(out, at);
  out.write(tail, at, 'utf8');
  return out;
}
