import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RelayError } from '../../protocol/errors.js';
import { MAX_JSON_DEPTH, compactJson, nestedDeeperThan } from '../../protocol/raw-json.js';

/**
 * Publish bodies are read as raw text and parsed by the routes, not by
 * fastify's JSON parser: a single event's data is then stored exactly as the
 * producer wrote it (serialized once), and only `application/json` (with any
 * charset parameter) is accepted; every other media type is a 415.
 */
export function registerJsonTextParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}

/** The raw JSON text of a request read by the parser above. */
export function jsonText(request: FastifyRequest): string {
  // A POST without Content-Type and without body never reaches the parser.
  if (request.headers['content-type'] === undefined) {
    throw new RelayError('unsupported_media_type');
  }
  if (typeof request.body !== 'string' || request.body.trim() === '') {
    throw new RelayError('invalid_json', 'The body is empty; send a JSON value.');
  }
  return request.body;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RelayError('invalid_json', 'The body is not valid JSON.');
  }
}

/**
 * An event's data as single-line JSON text: the body itself when it is one
 * line (the common case, no re-serialization), compacted otherwise so that
 * it can stand in an SSE `data:` field.
 */
export function eventDataText(text: string): string {
  parseJson(text);
  if (nestedDeeperThan(text)) throw tooDeep();
  return compactJson(text);
}

export function tooDeep(index?: number): RelayError {
  return new RelayError('invalid_request', `The JSON is nested deeper than ${MAX_JSON_DEPTH} levels.`, { index });
}
