import { loadPusherApps } from './pusher-apps.js';
import { redisProblems } from './redis-config.js';
import { CONFIG_FIELDS, MIN_PUBLISHER_KEY_LENGTH, type Config } from './schema.js';
import type { Env, Field, FieldContext } from './fields.js';
import { misspeltNames } from './typos.js';

export type { Env } from './fields.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Reads PUBLISHER_KEYS_FILE and PUSHER_APPS_FILE; injected so that only main.ts touches the filesystem. */
  readFile?: (path: string) => string;
  /** Whether stdout is a terminal (decides the default of LOG_PRETTY). */
  isTty?: boolean;
}

/**
 * Reads every variable of the schema and reports every bad one at once, by
 * name, so that an operator fixes them in one pass, together with any
 * variable that looks like a misspelt name of ours (typos.ts). Only a main.ts
 * calls it; everything else receives the resulting object (or the slice it uses).
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): Config {
  const problems: string[] = misspeltNames(env, configEnvNames());
  const context: FieldContext = { env, isTty: Boolean(options.isTty) };
  const config = {} as Record<string, unknown>;
  for (const [key, field] of Object.entries(CONFIG_FIELDS) as [string, Field<unknown>][]) {
    const raw = env[field.env]?.trim();
    if (raw === undefined || raw === '') {
      config[key] = field.defaultValue(context);
      continue;
    }
    const parsed = field.parse(raw);
    if ('problem' in parsed) {
      problems.push(parsed.problem);
      config[key] = field.defaultValue(context);
    } else {
      // A list of only separators (",") says nothing: the default applies, as for an unset variable.
      config[key] = Array.isArray(parsed.value) && parsed.value.length === 0 ? field.defaultValue(context) : parsed.value;
    }
  }
  const result = config as Config;
  result.pusherApps = loadPusherApps(result, options.readFile, problems);
  result.publisherKeys = [...result.publisherKeys, ...keysFromFile(result.publisherKeysFile, options, problems)];
  if (result.webhookUrls.length > 0 && result.webhookSecret === undefined) {
    problems.push('WEBHOOK_SECRET must be set (at least 32 characters) when WEBHOOK_URLS is set: receivers verify the signature with it');
  }
  if (result.publisherKeys.some((key) => key.length < MIN_PUBLISHER_KEY_LENGTH)) {
    problems.push(`PUBLISHER_KEYS: every key must be at least ${MIN_PUBLISHER_KEY_LENGTH} characters (a short key can be guessed)`);
  }
  problems.push(...redisProblems(result));
  const ca = readRedisCa(result.redisTlsCaFile, options, problems);
  if (ca !== undefined) result.redisTlsCa = ca;
  if (problems.length) throw new ConfigError(problems);
  return result;
}

function keysFromFile(path: string | undefined, options: LoadConfigOptions, problems: string[]): string[] {
  if (path === undefined) return [];
  if (!options.readFile) {
    problems.push('PUBLISHER_KEYS_FILE is set but files cannot be read here');
    return [];
  }
  try {
    return options.readFile(path).split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  } catch (err) {
    problems.push(`PUBLISHER_KEYS_FILE: cannot read ${path} (${(err as Error).message})`);
    return [];
  }
}

function readRedisCa(path: string | undefined, options: LoadConfigOptions, problems: string[]): string | undefined {
  if (path === undefined) return undefined;
  if (!options.readFile) {
    problems.push('REDIS_TLS_CA_FILE is set but files cannot be read here');
    return undefined;
  }
  try {
    const pem = options.readFile(path);
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem;
    problems.push(`REDIS_TLS_CA_FILE: ${path} holds no PEM certificate`);
  } catch (err) {
    problems.push(`REDIS_TLS_CA_FILE: cannot read ${path} (${(err as Error).message})`);
  }
  return undefined;
}

/** Every environment variable the services read (manifest checks, the README table). */
export function configEnvNames(): string[] {
  return Object.values(CONFIG_FIELDS).map((f) => f.env);
}
