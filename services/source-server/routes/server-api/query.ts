import type { FastifyRequest } from 'fastify';
import type { EventIds } from '../../../protocol/event-id.js';
import { CHANNEL_PATTERN } from '../../../protocol/channel.js';
import { RelayError } from '../../../protocol/errors.js';

/** PROTOCOL.md v1.1: a page of the server API holds 1 to 1,000 items... */
export const MAX_PAGE_LIMIT = 1000;
/** ...and 100 when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 100;

/** A channel-name prefix: the characters of a channel name, possibly none. */
const PREFIX_PATTERN = /^[A-Za-z0-9_\-.:]{0,128}$/;

type Query = Record<string, string | string[] | undefined>;

/** One query parameter; sent twice it is a 400 (which one would we honour?). */
function param(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Query)[name];
  if (Array.isArray(value)) throw new RelayError('invalid_request', `Send "${name}" at most once.`);
  return value;
}

/** `limit`: an integer 1..1000, default 100; anything else is 400 invalid_request. */
export function pageLimit(request: FastifyRequest): number {
  const value = param(request, 'limit');
  if (value === undefined) return DEFAULT_PAGE_LIMIT;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
    throw new RelayError('invalid_request', `"limit" is an integer from 1 to ${MAX_PAGE_LIMIT}.`);
  }
  return limit;
}

/** `since`: absent, or an id of the shape this server issues (as on subscribe: else 400 invalid_request). */
export function sinceParam(request: FastifyRequest, ids: EventIds): string | undefined {
  const value = param(request, 'since');
  if (value !== undefined && !ids.isValid(value)) {
    throw new RelayError('invalid_request', '"since" must be an event id this server issued (the "id" of an event, or the "next" of a page).');
  }
  return value;
}

/** `prefix`: the start of the channel names listed; default all. */
export function prefixParam(request: FastifyRequest): string {
  const value = param(request, 'prefix') ?? '';
  if (!PREFIX_PATTERN.test(value)) {
    throw new RelayError('invalid_request', '"prefix" is the start of a channel name: up to 128 of A-Z, a-z, 0-9, "_", "-", "." and ":".');
  }
  return value;
}

/** `after`: a channel name (the `next` of the previous page), or absent. */
export function afterParam(request: FastifyRequest): string | undefined {
  const value = param(request, 'after');
  if (value !== undefined && !CHANNEL_PATTERN.test(value)) {
    throw new RelayError('invalid_request', '"after" is a channel name: the "next" of the previous page.');
  }
  return value;
}
