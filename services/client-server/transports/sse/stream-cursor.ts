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
 * one entry per channel, channels in name order. The base is the newest ms
 * of any position when the stream began; an entry is `base - ms` (empty
 * when 0), or `~` and `ms - base` for a position after it, plus `-seq` when
 * seq is not 0, or `_` for a channel with no position yet (it held no event
 * when the stream began). Numbers are base 62 and every character is
 * URL-safe, so a cursor also fits `?since=`. Positions are stream ids
 * `<ms>-<seq>`, the shape both buses issue.
 *
 * The base stays fixed for the stream's life, so an event re-encodes only
 * its own channel's entry and the rest is a join of cached strings (every
 * event of every stream pays for it). The digest ties a cursor to its
 * channel set: a cursor of another set is refused rather than resuming the
 * wrong channels.
 */
const VERSION = '1';
const DIGEST_CHARS = 4;
const NONE = '_';
const AFTER = '~';
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const NUMBER = /^[0-9A-Za-z]{0,12}$/;

interface Position {
  ms: number;
  seq: number;
}

export class StreamCursor {
  /** Positions in the order of the sorted channels; undefined: none yet. */
  private readonly positions: (Position | undefined)[];
  /** Each position's entry text, re-encoded only when it moves. */
  private readonly entries: string[];
  private readonly index = new Map<string, number>();
  private readonly base: number;
  private readonly head: string;

  /** `from`: each channel's starting id (its `since` or baseline), absent for none. */
  constructor(channels: readonly string[], from: ReadonlyMap<string, string | undefined>) {
    const sorted = [...channels].sort();
    sorted.forEach((channel, i) => this.index.set(channel, i));
    this.positions = sorted.map((channel) => {
      const id = from.get(channel);
      return id === undefined || id === '0-0' ? undefined : parse(id);
    });
    this.base = Math.max(0, ...this.positions.map((p) => p?.ms ?? 0));
    this.head = `${VERSION}${channelDigest(sorted)}.${base62(this.base)}`;
    this.entries = this.positions.map((p) => this.entry(p));
  }

  /** Records that `id` of `channel` was written; positions only move forward. */
  advance(channel: string, id: string): void {
    const i = this.index.get(channel);
    if (i === undefined) return;
    const next = parse(id);
    const current = this.positions[i];
    if (current && (next.ms < current.ms || (next.ms === current.ms && next.seq <= current.seq))) return;
    this.positions[i] = next;
    this.entries[i] = this.entry(next);
  }

  encode(): string {
    return this.entries.length === 0 ? this.head : `${this.head}.${this.entries.join('.')}`;
  }

  private entry(p: Position | undefined): string {
    if (!p) return NONE;
    const ms = p.ms > this.base ? AFTER + base62(p.ms - this.base) : p.ms === this.base ? '' : base62(this.base - p.ms);
    return p.seq === 0 ? ms : `${ms}-${base62(p.seq)}`;
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
      const msText = dash < 0 ? entry : entry.slice(0, dash);
      const after = msText.startsWith(AFTER);
      const delta = number(after ? msText.slice(1) : msText, !after);
      const seq = dash < 0 ? 0 : number(entry.slice(dash + 1), false);
      if (delta === undefined || seq === undefined || (!after && delta > base)) return undefined;
      const id = `${after ? base + delta : base - delta}-${seq}`;
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
