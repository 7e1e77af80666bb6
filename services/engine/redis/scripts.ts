import type { RedisClient } from './connections.js';

/**
 * Defines a Lua script as a command on `redis` (ioredis sends EVALSHA and
 * falls back to EVAL on NOSCRIPT, e.g. after a Redis restart) and returns a
 * caller taking the keys and the arguments. Defining it again is harmless,
 * so several components may share one connection.
 */
export function scriptCommand(redis: RedisClient, name: string, lua: string, numberOfKeys: number): (keys: string[], args: (string | number)[]) => Promise<unknown> {
  redis.defineCommand(name, { lua, numberOfKeys });
  const call = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[name]!;
  return (keys, args) => call.call(redis, ...keys, ...args);
}
