import type { CliDeps } from './deps.js';
import { DEFAULT_SOURCE_URL } from './deps.js';
import { CliError, ExitCode } from './exit-codes.js';

export interface PublishOptions {
  sourceUrl?: string;
  idempotencyKey?: string;
}

/** `eventrelay publish <channel> <json | @file | ->`: POSTs one event, prints `{"channel","id"}`. */
export async function publishCommand(channel: string, input: string, options: PublishOptions, deps: CliDeps): Promise<void> {
  const body = await readData(input, deps);
  try {
    JSON.parse(body);
  } catch {
    throw new CliError(`the event data is not valid JSON (${describe(input)}); quote it for your shell, e.g. '{"hello":"world"}'`, ExitCode.usage);
  }
  const base = options.sourceUrl ?? deps.env.EVENTRELAY_SOURCE_URL ?? DEFAULT_SOURCE_URL;
  const url = new URL(`/v1/channels/${encodeURIComponent(channel)}/events`, base);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = deps.env.EVENTRELAY_PUBLISHER_KEY;
  // No key is fine against a local stack with auth disabled; the server says so otherwise.
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let response: Response;
  try {
    response = await deps.fetch(url, { method: 'POST', headers, body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CliError(`cannot reach the source-server at ${url.origin} (${cause}); is it running (npm start), or set EVENTRELAY_SOURCE_URL`, ExitCode.failed);
  }
  const text = await response.text();
  if (response.ok) {
    deps.stdout.write(`${text.trim()}\n`);
    return;
  }
  throw httpError(response.status, text, key === undefined);
}

function httpError(status: number, text: string, noKey: boolean): CliError {
  let code = `http_${status}`;
  let message = text.slice(0, 200);
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // Not one of our servers, or a proxy's error page: show its start.
  }
  const hint = status === 401 && noKey ? ' (set EVENTRELAY_PUBLISHER_KEY to one of the PUBLISHER_KEYS)' : '';
  return new CliError(`publish failed: ${status} ${code}: ${message}${hint}`, status === 401 || status === 403 ? ExitCode.auth : ExitCode.failed);
}

async function readData(input: string, deps: CliDeps): Promise<string> {
  if (input === '-') return deps.readStdin();
  if (input.startsWith('@')) {
    try {
      return await deps.readFile(input.slice(1));
    } catch (err) {
      throw new CliError(`cannot read ${input.slice(1)}: ${(err as Error).message}`, ExitCode.usage);
    }
  }
  return input;
}

function describe(input: string): string {
  return input === '-' ? 'from stdin' : input.startsWith('@') ? `in ${input.slice(1)}` : 'in the argument';
}
