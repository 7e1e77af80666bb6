import type { CliDeps } from './deps.js';
import { CliError, ExitCode } from './exit-codes.js';
import { httpError } from './http-error.js';
import { post, readJson, sourceUrl } from './publish.js';
import { keyHint } from './source-request.js';
import { endpoint } from './urls.js';

export interface PublishBatchOptions {
  sourceUrl?: string;
}

interface BatchResult {
  channel: string;
  id: string;
  replayed?: boolean;
}

/**
 * `eventrelay publish-batch <json | @file | ->`: POSTs `{"events":[...]}`
 * (or a bare array of `{channel, data, idempotencyKey?}`) to /v1/events and
 * prints one result line per event, in request order; results that replayed
 * an idempotency key carry `"replayed":true` and are counted on stderr.
 */
export async function publishBatchCommand(input: string, options: PublishBatchOptions, deps: CliDeps): Promise<void> {
  const base = sourceUrl(options.sourceUrl, deps);
  const raw = await readJson(input, deps);
  const parsed = JSON.parse(raw) as unknown;
  const body = Array.isArray(parsed) ? { events: parsed } : parsed;
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { events?: unknown }).events)) {
    throw new CliError('the batch must be {"events":[{"channel","data"[,"idempotencyKey"]}, ...]} or a JSON array of such events', ExitCode.usage);
  }
  const url = endpoint(base, '/v1/events');
  // The text as given, not JSON.stringify(parsed): that would round numbers past 2^53 in the events' data.
  const response = await post(url, { 'content-type': 'application/json' }, Array.isArray(parsed) ? `{"events":${raw}}` : raw, deps);
  const text = await response.text();
  if (!response.ok) throw httpError('publish-batch', response.status, text, keyHint(response.status, deps));
  const { results } = JSON.parse(text) as { results: BatchResult[] };
  for (const result of results) deps.stdout.write(`${JSON.stringify(result)}\n`);
  const replayed = results.filter((r) => r.replayed === true).length;
  if (replayed > 0) {
    deps.stderr.write(`eventrelay: replayed: ${replayed} of ${results.length} events repeated an idempotency key; nothing new was stored for them (marked "replayed":true)\n`);
  }
}
