import { constants, deflateRawSync } from 'node:zlib';
import type { OutboundEvent } from '../../outbound-event.js';
import { framePayload, wsFrameOf, writeFrameHeader } from './ws-frame.js';

/*
 * permessage-deflate (RFC 7692) compressed once per event. Every accepted
 * offer has no context takeover on our side (server_no_context_takeover),
 * so a compressed message depends on nothing but itself and one frame
 * serves every socket whose window holds it: the frame is built on the
 * first such socket and kept on the event, like the uncompressed one.
 * ws's own per-socket deflate never runs (it is negotiated, but every send
 * of ours passes compress: false), so no socket owns a deflate stream.
 */

export const EXTENSION = 'permessage-deflate';

/**
 * Smallest window we compress with. zlib cannot make raw deflate with an
 * 8-bit window (it silently uses 9), so an offer capping our window at 8 is
 * declined rather than answered with frames the client might not inflate.
 */
const MIN_WINDOW_BITS = 9;
const MAX_WINDOW_BITS = 15;
/**
 * The client's window we ask for when its offer lets us (client_max_window_bits):
 * its messages are small control frames, and its window is what inflating
 * them costs us per socket (1 KiB instead of 32 KiB).
 */
export const CLIENT_WINDOW_BITS = 10;
/** Below this a JSON message rarely shrinks by more than the frame header it saves; sent uncompressed (RSV1 0, allowed per message). */
export const MIN_COMPRESSED_PAYLOAD_BYTES = 128;
/** zlib keeps this much of its window out of reach of back-references (MIN_LOOKAHEAD). */
const ZLIB_LOOKAHEAD = 262;
/** The empty stored block a sync flush ends with; RFC 7692 §7.2.1 removes it from the message. */
const TAIL_BYTES = 4;

/** What this server agreed to for one socket: the largest window our frames may use. */
export interface DeflateAgreement {
  /** Ours (server_max_window_bits); 15 when the client did not cap it. */
  windowBits: number;
  /** The Sec-WebSocket-Extensions offer handed to ws, which answers it with exactly these parameters. */
  offer: string;
}

/**
 * Picks the first permessage-deflate offer of a Sec-WebSocket-Extensions
 * header that RFC 7692 §7.1 lets us accept with no context takeover; none:
 * undefined, and the socket is uncompressed (an offer is declined, never
 * refused: ws itself answers an offer it dislikes with 400).
 */
export function negotiateDeflate(header: string | string[] | undefined): DeflateAgreement | undefined {
  if (header === undefined) return undefined;
  for (const offer of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = offer.split(';').map((part) => part.trim());
    if (name?.toLowerCase() !== EXTENSION) continue;
    const agreement = acceptOffer(params);
    if (agreement) return agreement;
  }
  return undefined;
}

function acceptOffer(params: string[]): DeflateAgreement | undefined {
  const seen = new Set<string>();
  let windowBits = MAX_WINDOW_BITS;
  let clientBits: number | undefined;
  for (const param of params) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    // §7.1: a parameter twice, an unknown one or a bad value declines the offer.
    if (seen.has(key)) return undefined;
    seen.add(key);
    if (key === 'server_no_context_takeover' || key === 'client_no_context_takeover') {
      if (value !== undefined) return undefined;
    } else if (key === 'server_max_window_bits') {
      const bits = windowBitsOf(value);
      if (bits === undefined || bits < MIN_WINDOW_BITS) return undefined;
      windowBits = bits;
    } else if (key === 'client_max_window_bits') {
      const bits = value === undefined ? MAX_WINDOW_BITS : windowBitsOf(value);
      if (bits === undefined) return undefined;
      // An offer of 8 is left unanswered: the client keeps to its own cap and we inflate with the
      // full window, which also inflates what zlib makes of 8 (it silently uses 9).
      if (bits >= MIN_WINDOW_BITS) clientBits = Math.min(bits, CLIENT_WINDOW_BITS);
    } else {
      return undefined;
    }
  }
  let offer = `${EXTENSION}; server_no_context_takeover; client_no_context_takeover`;
  if (windowBits !== MAX_WINDOW_BITS) offer += `; server_max_window_bits=${windowBits}`;
  if (clientBits !== undefined) offer += `; client_max_window_bits=${clientBits}`;
  return { windowBits, offer };
}

function windowBitsOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,2}$/.test(value)) return undefined;
  const bits = Number(value);
  return bits >= 8 && bits <= MAX_WINDOW_BITS ? bits : undefined;
}

/** The window that reaches across a whole payload of `length` bytes: a larger one compresses it no better. */
function windowFor(length: number): number {
  let bits = MIN_WINDOW_BITS;
  while (bits < MAX_WINDOW_BITS && (1 << bits) - ZLIB_LOOKAHEAD < length) bits++;
  return bits;
}

/**
 * The event's frame for a socket that agreed to `windowBits`: compressed
 * (RSV1) once per window size actually needed, which for events smaller
 * than the smallest agreed window is one frame for every socket; the
 * uncompressed frame when compressing does not pay.
 */
export function deflatedFrameOf(event: OutboundEvent, windowBits: number): Buffer {
  const plain = wsFrameOf(event);
  const payload = framePayload(plain);
  if (payload.length < MIN_COMPRESSED_PAYLOAD_BYTES) return plain;
  const bits = Math.min(windowBits, windowFor(payload.length));
  const frames = (event.wire.deflated ??= {});
  return (frames[bits] ??= compressedFrame(payload, bits) ?? plain);
}

function compressedFrame(payload: Buffer, windowBits: number): Buffer | undefined {
  const out = deflateRawSync(payload, { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
  const length = out.length - TAIL_BYTES;
  if (length >= payload.length) return undefined;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  writeFrameHeader(frame, 0, length, true);
  out.copy(frame, header, 0, length);
  return frame;
}
