import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/schema.js';

/** Values that must never reach a log line, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.token',
  'headers.authorization',
  'token',
  'config.publisherKeys',
  'config.subscriberJwtSecret',
  'config.redisUrl',
  'config.redisPassword',
  'config.redisSentinelPassword',
];

/**
 * The process's root logger; components take `logger.child({ component })`.
 * Called only by a main.ts (tests pass their own sink stream).
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logPretty'>,
  name: string,
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // `?token=` carries a subscriber JWT: log the path, never the query string.
    serializers: {
      req(req: { method?: string; url?: string; id?: string; ip?: string }) {
        return { id: req.id, method: req.method, url: req.url?.split('?')[0], ip: req.ip };
      },
    },
  };
  if (destination) return pino(options, destination);
  if (config.logPretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}

/** Strips credentials from a redis:// URL so that it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
}
