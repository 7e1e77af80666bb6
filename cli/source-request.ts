import type { CliDeps } from './deps.js';
import { CliError, ExitCode } from './exit-codes.js';
import { describeNetworkError } from './relay.js';

/**
 * One request to the source-server with the publisher key
 * (EVENTRELAY_PUBLISHER_KEY): publishing and the server API. A failure to
 * connect names its cause (refused, DNS, TLS) and exits 1; the answer,
 * whatever its status, is the caller's to judge.
 */
export async function sourceRequest(method: 'GET' | 'POST', url: URL, deps: CliDeps, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  const key = deps.env.EVENTRELAY_PUBLISHER_KEY;
  // No key is fine against a local stack with auth disabled; the server says so otherwise.
  const all = key ? { ...headers, authorization: `Bearer ${key}` } : headers;
  try {
    return await deps.fetch(url, { method, headers: all, body });
  } catch (err) {
    throw new CliError(
      `cannot reach the source-server at ${url.origin}: ${describeNetworkError(err)}; is it running (npm start), or set --source-url / EVENTRELAY_SOURCE_URL`,
      ExitCode.failed,
    );
  }
}

/** Without a key, a 401 says which variable to set. */
export function keyHint(status: number, deps: CliDeps): string {
  return status === 401 && !deps.env.EVENTRELAY_PUBLISHER_KEY ? ' (set EVENTRELAY_PUBLISHER_KEY to one of the PUBLISHER_KEYS)' : '';
}
