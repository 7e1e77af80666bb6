/**
 * The text/event-stream format (WHATWG HTML, "Server-sent events",
 * interpreting an event stream) for runtimes without EventSource: lines end
 * in CRLF, LF or CR; `:` starts a comment; a blank line dispatches.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private type = '';
  /** The last `id:` seen; it persists across messages, as in EventSource. */
  lastEventId = '';

  constructor(private readonly dispatch: (type: string, data: string, lastEventId: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      // A CR at the end of the chunk may be the first half of a CRLF: wait for the next chunk.
      if (end === cr && end === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, end));
      start = end === cr && this.buffer[end + 1] === '\n' ? end + 2 : end + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.dispatch(this.type || 'message', this.data.join('\n'), this.lastEventId);
      this.data = [];
      this.type = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // `retry:` is ignored: the client's own backoff decides when to reconnect.
  }
}
