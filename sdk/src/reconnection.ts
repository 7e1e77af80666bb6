import { backoffDelay, type BackoffOptions } from './backoff.js';

export interface ReconnectionOptions {
  token?: string;
  getToken?: () => string | Promise<string>;
  backoff?: BackoffOptions;
}

/** What both clients (WebSocket and SSE) keep between attempts: the token, fetched with getToken when due, and the backoff. */
export class Reconnection {
  token?: string;
  /** The current attempt uses a token getToken just returned: if the server refuses that one too, retrying cannot help. */
  tokenIsFresh = false;
  /** Consecutive failed attempts; reset by the client once the server answers. */
  attempt = 0;
  private tokenDue: boolean;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly options: ReconnectionOptions) {
    this.token = options.token;
    this.tokenDue = options.getToken !== undefined && options.token === undefined;
  }

  get canRefreshToken(): boolean {
    return this.options.getToken !== undefined;
  }

  /** Fetch a new token before the next attempt (a no-op without getToken). */
  refreshToken(): void {
    if (this.options.getToken) this.tokenDue = true;
  }

  /** Before each attempt: the token to use, fetched first when due. Rejects with what getToken threw. */
  async prepare(): Promise<string | undefined> {
    this.tokenIsFresh = false;
    if (this.options.getToken && this.tokenDue) {
      this.token = await this.options.getToken();
      this.tokenDue = false;
      this.tokenIsFresh = true;
    }
    return this.token;
  }

  /** Runs `next` after the backoff (or `minDelayMs`, e.g. Retry-After, when longer). */
  schedule(next: () => void, minDelayMs = 0): { delayMs: number; attempt: number } {
    const delayMs = Math.max(backoffDelay(this.attempt, this.options.backoff), minDelayMs);
    this.attempt++;
    clearTimeout(this.timer);
    // Not unref'd: a Node process tailing a channel should wait for the server to come back.
    this.timer = setTimeout(next, delayMs);
    return { delayMs, attempt: this.attempt };
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}
