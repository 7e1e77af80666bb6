import { createHash } from 'node:crypto';
import { EVENT_ID_PATTERN } from '../../../protocol/event-id.js';

/**
 * The `id:` of a multi-channel SSE stream (PROTOCOL.md v1.1: an opaque
 * cursor for the whole stream): every channel's position, so that the one
 * Last-Event-ID a browser keeps resumes all of them. It is sent with every
 * event, so it is packed:
 *
 *   "1" <digest of the channel set, 4 chars> "." <base ms> ("." <entry>)*
 *
 * one entry per channel, channels in name order; base = the largest ms of
 * all positions, and each entry is `base - ms` (empty when 0) plus `-seq`
 * when seq is not 0, or `_` for a channel with no position yet (it held no
 * event when the stream began). Numbers are base 62, every character is
 * URL-safe, so a cursor also fits `?since=`. Positions are stream ids
 * `<ms>-<seq>`, the shape both buses issue.
 *
 * A channel that just delivered costs 1 character; one idle for a day
 * about 6. The digest ties a cursor to its channel set: a cursor of another
 * set is refused rather than resuming the wrong channels.
 */
const VERSION = '1';
const DIGEST_CHARS = 4;
const NONE = '_';
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const NUMBER = /^[0-9A-Za-z]{0,12}$/;

interface Position {
  ms: number;
  seq: number;
}

export class StreamCursor {
  /** Positions in the order of `sorted`; undefined: none yet. */
  private readonly positions: (Position | undefined)[];
  private readonly index = new Map<string, number>();
  private readonly digest: string;

  /** `from`: each channel's starting id (its `since` or baseline), absent for none. */
  constructor(channels: readonly string[], from: ReadonlyMap<string, string | undefined>) {
    const sorted = [...channels].sort();
    sorted.forEach((channel, i) => this.index.set(channel, i));
    this.digest = channelDigest(sorted);
    this.positions = sorted.map((channel) => {
      const id = from.get(channel);
      return id === undefined || id === '0-0' ? undefined : parse(id);
    });
  }

  /** Records that `id` of `channel` was written; positions only move forward. */
  advance(channel: string, id: string): void {
    const i = this.index.get(channel);
    if (i === undefined) return;
    const next = parse(id);
    const current = this.positions[i];
    if (!current || next.ms > current.ms || (next.ms === current.ms && next.seq > current.seq)) this.positions[i] = next;
  }

  encode(): string {
    let base = 0;
    for (const p of this.positions) if (p && p.ms > base) base = p.ms;
    let out = `${VERSION}${this.digest}.${base62(base)}`;
    for (const p of this.positions) {
      if (!p) out += `.${NONE}`;
      else out += `.${p.ms === base ? '' : base62(base - p.ms)}${p.seq === 0 ? '' : `-${base62(p.seq)}`}`;
    }
    return out;
  }

  /**
   * Each channel's `since` from a cursor of this channel set (`0-0` where
   * it has no position: everything held is after it), or undefined when
   * `text` is not such a cursor.
   */
  static decode(text: string, channels: readonly string[]): Map<string, string> | undefined {
    const sorted = [...channels].sort();
    const parts = text.split('.');
    if (parts.length !== sorted.length + 2) return undefined;
    const [head, baseText] = parts as [string, string];
    if (head !== `${VERSION}${channelDigest(sorted)}`) return undefined;
    const base = number(baseText, false);
    if (base === undefined) return undefined;
    const since = new Map<string, string>();
    for (let i = 0; i < sorted.length; i++) {
      const entry = parts[i + 2]!;
      if (entry === NONE) {
        since.set(sorted[i]!, '0-0');
        continue;
      }
      const dash = entry.indexOf('-');
      const delta = number(dash < 0 ? entry : entry.slice(0, dash), true);
      const seq = dash < 0 ? 0 : number(entry.slice(dash + 1), false);
      if (delta === undefined || seq === undefined || delta > base) return undefined;
      const id = `${base - delta}-${seq}`;
      if (!EVENT_ID_PATTERN.test(id)) return undefined;
      since.set(sorted[i]!, id);
    }
    return since;
  }
}

/** 4 base-62 characters of SHA-256 over the sorted names: a wrong set passes unnoticed once in ~15 million. */
function channelDigest(sorted: readonly string[]): string {
  const hash = createHash('sha256').update(sorted.join(',')).digest();
  return base62(hash.readUInt32BE(0)).padStart(DIGEST_CHARS, '0').slice(-DIGEST_CHARS);
}

function parse(id: string): Position {
  const dash = id.indexOf('-');
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) };
}

function base62(n: number): string {
  if (n === 0) return '0';
  let out = '';
  for (; n > 0; n = Math.floor(n / 62)) out = DIGITS[n % 62]! + out;
  return out;
}

/** A base-62 number, or undefined; `emptyIsZero` for entries, whose zero delta is written as nothing. */
function number(text: string, emptyIsZero: boolean): number | undefined {
  if (!NUMBER.test(text) || (text === '' && !emptyIsZero)) return undefined;
  let n = 0;
  for (const c of text) n = n * 62 + DIGITS.indexOf(c);
  return Number.isSafeInteger(n) ? n : undefined;
}
