import { request, type IncomingMessage } from 'node:http';

export interface SseMessage {
  event?: string;
  id?: string;
  data: string;
  /** A `retry:` field: the reconnection delay the server asks for. */
  retry?: string;
}

/** A test EventSource over node:http that records every message and comment. */
export class TestEventStream {
  readonly messages: SseMessage[] = [];
  comments = 0;
  ended = false;
  /** Everything a 200 stream sent, as sent. */
  raw = '';
  private buffer = '';

  private constructor(readonly response: IncomingMessage, private readonly abort: () => void) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.feed(chunk));
    response.on('end', () => (this.ended = true));
    response.on('close', () => (this.ended = true));
  }

  /** Resolves with the stream once headers arrive, whatever the status; read `status` and `body()` for errors. */
  static open(url: string, headers: Record<string, string> = {}): Promise<TestEventStream> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => resolve(new TestEventStream(res, () => req.destroy())));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** The whole body of a non-stream (error) response. */
  async body(): Promise<string> {
    while (!this.ended) await new Promise((r) => setTimeout(r, 10));
    return this.buffer;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.messages.length} of ${count} SSE messages`);
      if (this.ended) throw new Error(`stream ended with ${this.messages.length} of ${count} messages`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages;
  }

  close(): void {
    this.abort();
  }

  private feed(chunk: string): void {
    if (this.status !== 200) {
      this.buffer += chunk;
      return;
    }
    this.buffer += chunk;
    this.raw += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const message: SseMessage = { data: '' };
      let isComment = true;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        isComment = false;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') message.event = value;
        else if (field === 'id') message.id = value;
        else if (field === 'data') data.push(value);
        else if (field === 'retry') message.retry = value;
      }
      if (isComment) this.comments++;
      else {
        message.data = data.join('\n');
        this.messages.push(message);
      }
    }
  }
}
