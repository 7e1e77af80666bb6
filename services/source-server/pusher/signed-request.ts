import type { FastifyRequest } from 'fastify';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { apiStringToSign, hmacHex, md5Hex, signaturesEqual } from '../../protocol/pusher/signature.js';
import { PusherHttpError } from './pusher-http-error.js';

/** Pusher's window for `auth_timestamp` either side of the server's clock (pusher/docs rest-api.md). */
export const TIMESTAMP_WINDOW_SECONDS = 600;

/**
 * Verifies a Pusher HTTP API request (pusher/docs `rest-api.md`, "Generating
 * authentication signatures"; sockudo checks the same), failing closed, in
 * this order: the app of the path (404), `auth_key` (401), `auth_version`
 * 1.0, `auth_timestamp` within 600 s, `body_md5` of the raw body, then the
 * signature over the raw path and the sorted decoded query, compared in
 * constant time. Returns the app.
 */
export function verifySignedRequest(request: FastifyRequest, apps: ReadonlyMap<string, PusherApp>, nowMs: number): PusherApp {
  const app = apps.get((request.params as { appId: string }).appId);
  if (!app) throw new PusherHttpError(404, 'Unknown app id');
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const given = params.get('auth_signature') ?? '';
  if (params.get('auth_key') !== app.key) throw new PusherHttpError(401, 'Unknown auth_key');
  if (params.get('auth_version') !== '1.0') throw new PusherHttpError(401, 'auth_version must be 1.0');
  const timestamp = Number(params.get('auth_timestamp'));
  const now = Math.floor(nowMs / 1000);
  if (!/^\d+$/.test(params.get('auth_timestamp') ?? '') || Math.abs(now - timestamp) > TIMESTAMP_WINDOW_SECONDS) {
    const givenAt = Number.isFinite(timestamp) ? new Date(timestamp * 1000).toISOString() : String(params.get('auth_timestamp'));
    throw new PusherHttpError(401, `Timestamp expired: Given timestamp (${givenAt}) not within ${TIMESTAMP_WINDOW_SECONDS}s of server time (${new Date(now * 1000).toISOString()})`);
  }
  const body = typeof request.body === 'string' ? request.body : '';
  if (body !== '' && params.get('body_md5') !== md5Hex(body)) throw new PusherHttpError(401, 'body_md5 does not match the MD5 of the body');
  const toSign = apiStringToSign(request.method, path, params);
  if (!signaturesEqual(given, hmacHex(app.secret, toSign))) {
    throw new PusherHttpError(401, `Invalid signature: you should have sent HmacSHA256Hex(${JSON.stringify(toSign)}, your_secret_key), but you sent "${given}"`);
  }
  if (!app.enabled) throw new PusherHttpError(403, 'Application is disabled');
  return app;
}
