/**
 * Reading JSON without losing the producer's bytes (PROTOCOL.md v1.1: `data`
 * reaches subscribers "numbers digit for digit"): after `JSON.parse` has
 * validated a text, these find where each value sits in it, so that a
 * nested `data` is relayed as written instead of re-encoded (which turns
 * 12345678901234567890 into 12345678901234567000).
 *
 * The scanner is iterative (no recursion): a validated text nested 30,000
 * deep is skipped as safely as a flat one. It is only ever given text that
 * JSON.parse accepted; on anything else its spans are meaningless.
 */

/** [start, end) of a value in its text. */
export type Span = readonly [start: number, end: number];

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The end of the string whose opening quote is at `i`. Jumps from quote to
 * quote with indexOf (native, several times faster than a loop over every
 * character of a long string); a quote is the closing one when an even number
 * of backslashes precedes it. The opening quote stops the backslash count.
 */
function skipString(text: string, i: number): number {
  for (;;) {
    const quote = text.indexOf('"', i + 1);
    if (quote < 0) return text.length;
    let before = quote - 1;
    while (text.charCodeAt(before) === 0x5c /* \ */) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    i = quote;
  }
}

/** The end of the value starting at `i` (no leading whitespace). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return skipString(text, i);
  if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) {
    // A number, true, false or null: up to the next delimiter.
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x22) i = skipString(text, i) - 1;
    else if (d === 0x7b || d === 0x5b) depth++;
    else if (d === 0x7d || d === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return i;
}

/** The spans of an object's members (key → value span); `at` is the position of its `{`. */
export function objectMembers(text: string, at: number): Map<string, Span> {
  const members = new Map<string, Span>();
  let i = skipWhitespace(text, at + 1);
  while (i < text.length && text.charCodeAt(i) !== 0x7d) {
    const keyEnd = skipString(text, i);
    // Most keys hold no escape and are their own text; only an escaped one needs decoding.
    const bare = text.slice(i + 1, keyEnd - 1);
    const key = bare.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : bare;
    i = skipWhitespace(text, keyEnd);
    i = skipWhitespace(text, i + 1); // the colon
    const end = skipValue(text, i);
    // A repeated key: JSON.parse keeps the last one, and so does this.
    members.set(key, [i, end]);
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipWhitespace(text, i + 1);
  }
  return members;
}

/** The spans of an array's items; `at` is the position of its `[`. */
export function arrayItems(text: string, at: number): Span[] {
  const items: Span[] = [];
  let i = skipWhitespace(text, at + 1);
  while (i < text.length && text.charCodeAt(i) !== 0x5d) {
    const end = skipValue(text, i);
    items.push([i, end]);
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipWhitespace(text, i + 1);
  }
  return items;
}

/** Where the top-level value of `text` starts. */
export function valueStart(text: string): number {
  return skipWhitespace(text, 0);
}

/**
 * JSON text as one line, for an SSE `data:` field: whitespace outside strings
 * dropped, everything else (numbers, string escapes) byte for byte. A raw line
 * break can only be insignificant whitespace in valid JSON.
 */
export function compactJson(text: string): string {
  if (!/[\r\n]/.test(text)) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = skipString(text, i) - 1;
    else if (WS.has(c)) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

/**
 * Nesting deeper than this is refused (400 invalid_request) wherever a
 * producer or client hands us data: Ruby's JSON parser stops at 100 levels by
 * default and other subscribers' parsers at a few thousand, so deeper data
 * would be stored and then break the subscribers it is meant for.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether `text` (already validated by JSON.parse) nests objects and arrays deeper than `limit`. */
export function nestedDeeperThan(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = skipString(text, i) - 1;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
