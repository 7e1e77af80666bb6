/* global fetch, location, URL -- browser globals; the lint config is set up for Node */
// The source-server's HTTP API as the console uses it (PROTOCOL.md: publish,
// and the v1.1 server API), with the publisher key. Every failure becomes an
// ApiError carrying the HTTP status and the PROTOCOL.md code.

/** A refusal or a failure to reach the server; `status` is 0 when nothing answered. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** `401 unauthorized: <the server's message>`, or the reason nothing answered. */
  describe() {
    return this.status ? `${this.status} ${this.code}: ${this.message}` : `${this.code}: ${this.message}`;
  }
}

export class ServerApi {
  /** `settings.base()` is the source-server address (a path prefix is kept), `settings.key()` the publisher key or ''. */
  constructor(settings) {
    this.settings = settings;
  }

  publish(channel, json) {
    return this.request('POST', `/v1/channels/${encodeURIComponent(channel)}/events`, { body: json, json: true });
  }

  /** `{channels:[{channel, subscribers}], next}`: channels with a subscriber anywhere. */
  channels({ prefix, after, limit } = {}) {
    return this.request('GET', '/v1/channels', { query: { prefix, after, limit } });
  }

  /** `{channel, subscribers, presence:{count}|null, lastId}`. */
  channel(channel) {
    return this.request('GET', `/v1/channels/${encodeURIComponent(channel)}`);
  }

  /** `{count, members:[{user, info, connections}]}`. */
  presence(channel) {
    return this.request('GET', `/v1/channels/${encodeURIComponent(channel)}/presence`);
  }

  /** `{events, recovered, next}`: after `since`, or the latest `limit` without it. */
  history(channel, { since, limit } = {}) {
    return this.request('GET', `/v1/channels/${encodeURIComponent(channel)}/events`, { query: { since, limit } });
  }

  /** Closes every connection of `user` (the token `sub`) with 4003. */
  disconnect(user) {
    return this.request('POST', `/v1/users/${encodeURIComponent(user)}/disconnect`);
  }

  /** The address of `path` under the configured base, keeping its path prefix. */
  url(path, query = {}) {
    const base = this.settings.base().trim();
    let url;
    try {
      url = new URL(base);
    } catch {
      throw new ApiError(0, 'invalid_request', `the source-server address "${base}" is not a URL (e.g. http://localhost:8080)`);
    }
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    url.search = '';
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    return url;
  }

  async request(method, path, { query, body, json = false } = {}) {
    const url = this.url(path, query);
    const headers = {};
    const key = this.settings.key();
    if (key) headers.authorization = `Bearer ${key}`;
    if (json) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(url, { method, headers, body });
    } catch {
      // A browser hides why (refused, DNS, CORS): name what usually is the cause.
      throw new ApiError(0, 'unreachable', `cannot reach the source-server at ${url.origin}: is it running there, and does its PUBLISH_ALLOWED_ORIGINS include ${location.origin}?`);
    }
    const text = await response.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = parsed?.error;
      const message = error?.message ?? (text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120) || response.statusText);
      const hint = response.status === 401 && !key ? ' (enter the publisher key)' : '';
      throw new ApiError(response.status, error?.code ?? `http_${response.status}`, `${message}${hint}`);
    }
    return { body: parsed, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }
}
