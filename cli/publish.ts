import { assertChannelArgument } from './channel.js';
import type { CliDeps } from './deps.js';
import { DEFAULT_SOURCE_URL } from './deps.js';
import { CliError, ExitCode } from './exit-codes.js';
import { httpError } from './http-error.js';
import { keyHint, sourceRequest } from './source-request.js';
import { endpoint, serverUrl } from './urls.js';

export interface PublishOptions {
  sourceUrl?: string;
  idempotencyKey?: string;
}

/** The source-server address of publish and publish-batch. */
export function sourceUrl(value: string | undefined, deps: CliDeps): URL {
  return serverUrl({ value, option: '--source-url', variable: 'EVENTRELAY_SOURCE_URL', fallback: DEFAULT_SOURCE_URL, protocols: ['http:', 'https:'] }, deps.env);
}

/**
 * `eventrelay publish <channel> <json | @file | ->`: POSTs one event and
 * prints `{"channel","id"}`; a retry that the server answered from its
 * idempotency key prints `"replayed":true` and says so on stderr.
 */
export async function publishCommand(channel: string, input: string, options: PublishOptions, deps: CliDeps): Promise<void> {
  assertChannelArgument(channel);
  const base = sourceUrl(options.sourceUrl, deps);
  const body = await readJson(input, deps);
  const url = endpoint(base, `/v1/channels/${encodeURIComponent(channel)}/events`);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const response = await post(url, headers, body, deps);
  const text = await response.text();
  if (!response.ok) throw httpError('publish', response.status, text, keyHint(response.status, deps));
  if (response.headers.get('idempotent-replayed') === 'true') {
    const result = JSON.parse(text) as Record<string, unknown>;
    deps.stdout.write(`${JSON.stringify({ ...result, replayed: true })}\n`);
    deps.stderr.write(`eventrelay: replayed: idempotency key "${options.idempotencyKey}" was already used on ${channel}; nothing new was stored, this is the first publish's id\n`);
    return;
  }
  deps.stdout.write(`${text.trim()}\n`);
}

/** POSTs with the publisher key; a failure to connect names its cause (refused, DNS, TLS). */
export function post(url: URL, headers: Record<string, string>, body: string, deps: CliDeps): Promise<Response> {
  return sourceRequest('POST', url, deps, headers, body);
}

/** The argument, a file (`@path`) or stdin (`-`), checked to be JSON before anything is sent. */
export async function readJson(input: string, deps: CliDeps): Promise<string> {
  let text = input;
  if (input === '-') text = await deps.readStdin();
  else if (input.startsWith('@')) {
    try {
      text = await deps.readFile(input.slice(1));
    } catch (err) {
      throw new CliError(`cannot read ${input.slice(1)}: ${(err as Error).message}`, ExitCode.usage);
    }
  }
  try {
    JSON.parse(text);
  } catch {
    const where = input === '-' ? 'from stdin' : input.startsWith('@') ? `in ${input.slice(1)}` : 'in the argument';
    throw new CliError(`the event data is not valid JSON (${where}); quote it for your shell, e.g. '{"hello":"world"}'`, ExitCode.usage);
  }
  return text;
}
