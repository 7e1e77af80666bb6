import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LOCALHOST, assertRedis7Installed, createRedisProcess, expectState, freePort, makeTempDir, parseInfo,
  redisCommand, removeDir, waitUntil, type RedisProcess,
} from './redis-process.js';

/**
 * A real Sentinel deployment for tests: one primary, its replicas, and a quorum of sentinels, each its own
 * process on a free port in its own directory. Every data node and sentinel runs from a config file in its
 * directory, because sentinels rewrite both (CONFIG REWRITE on a reconfigured replica, their own state).
 */
export interface RedisSentinelOptions {
  /** The name sentinels monitor the primary under (`new Redis({ sentinels, name })`). Default 'eventrelay'. */
  name?: string;
  /** Default 2. */
  replicas?: number;
  /** Default 3. */
  sentinels?: number;
  /** Sentinels that must agree the primary is down. Default 2 (a majority of 3). */
  quorum?: number;
  /** `down-after-milliseconds`. Default 1000 (Redis' default of 30 s would make every chaos test slow). */
  downAfterMs?: number;
  /** `failover-timeout`. Default 3000: also how long sentinels wait to retry after a failed election. */
  failoverTimeoutMs?: number;
  /** `requirepass` + `masterauth` on data nodes; the sentinels' `auth-pass`. */
  password?: string;
  /** `requirepass` on the sentinels (clients pass it as `sentinelPassword`). */
  sentinelPassword?: string;
  /** AOF with `appendfsync always` on data nodes. Default false. */
  appendonly?: boolean;
}

export interface RedisSentinelHandle {
  readonly name: string;
  /** For `new Redis({ sentinels, name })`. */
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** Ports of all data nodes (primary and replicas, in start order; roles change on failover). */
  readonly servers: readonly number[];
  readonly password?: string;
  readonly sentinelPassword?: string;
  /** How long start took, for reports. */
  readonly startMs: number;
  /** The primary a running sentinel names (SENTINEL get-master-addr-by-name). */
  primary(): Promise<{ host: string; port: number }>;
  /** What a data node says it is (INFO replication). */
  role(port: number): Promise<'master' | 'replica'>;
  /**
   * SIGKILLs the primary and waits until every running sentinel names another node that says it is master.
   * Returns both ports and how long the promotion took (for reports, never for assertions).
   */
  killPrimary(): Promise<{ previous: number; current: number; failoverMs: number }>;
  /**
   * SENTINEL FAILOVER (graceful: the old primary stays up). Resolves when the old primary has been demoted to a
   * replica of the new one and the deployment is healthy; the demotion waits for the sentinels' next INFO of the old
   * primary, so this takes about 10 s.
   */
  failover(): Promise<{ previous: number; current: number }>;
  /** Sends the signal (default SIGKILL) to a data node or sentinel; waits for exit on SIGKILL/SIGTERM. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed data node or sentinel again and waits until the deployment is healthy. */
  restart(port: number): Promise<void>;
  /**
   * Waits until every running sentinel names the same running primary, knows every other running sentinel and
   * every running replica (none down), and every running replica replicates from that primary with its link up.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_HEALTHY_TIMEOUT_MS = 20_000;

export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  assertRedis7Installed();
  const started = Date.now();
  const name = options.name ?? 'eventrelay';
  const { password, sentinelPassword } = options;
  const data = new Map<number, RedisProcess>();
  const watchers = new Map<number, RedisProcess>();
  const servers: number[] = [];
  for (let i = 0; i <= (options.replicas ?? 2); i++) {
    const port = await freePort();
    const dir = makeTempDir('sentinel-data');
    const conf = join(dir, 'redis.conf');
    writeFileSync(conf, dataConfig(port, dir, options, i === 0 ? undefined : servers[0]));
    data.set(port, createRedisProcess({ port, dir, password, args: [conf] }));
    servers.push(port);
  }
  const primaryPort = servers[0]!;
  for (let i = 0; i < (options.sentinels ?? 3); i++) {
    const port = await freePort();
    const dir = makeTempDir('sentinel');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, sentinelConfig(port, dir, name, primaryPort, options));
    watchers.set(port, createRedisProcess({ port, dir, password: sentinelPassword, args: [conf, '--sentinel'] }));
  }
  const onData = (port: number, ...args: Array<string | number>) => redisCommand(port, args, { password });
  const onSentinel = (port: number, ...args: Array<string | number>) => redisCommand(port, args, { password: sentinelPassword });
  const running = (map: Map<number, RedisProcess>) => [...map.values()].filter((p) => p.running).map((p) => p.port);

  async function askedPrimary(sentinelPort: number): Promise<number> {
    const reply = (await onSentinel(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
    if (!reply) throw new Error(`sentinel ${sentinelPort} does not know ${name}`);
    return Number(reply[1]);
  }

  async function role(port: number): Promise<'master' | 'replica'> {
    return parseInfo(await onData(port, 'INFO', 'replication')).role === 'master' ? 'master' : 'replica';
  }

  async function primary(): Promise<{ host: string; port: number }> {
    for (const port of running(watchers)) {
      try {
        return { host: LOCALHOST, port: await askedPrimary(port) };
      } catch {
        // try the next sentinel, as a client would
      }
    }
    throw new Error('no running sentinel names a primary');
  }

  async function waitHealthy(timeoutMs = DEFAULT_HEALTHY_TIMEOUT_MS): Promise<void> {
    await waitUntil('the sentinel deployment is healthy', async () => {
      const sentinels = running(watchers);
      const named = [...new Set(await Promise.all(sentinels.map(askedPrimary)))];
      expectState(named.length === 1, `sentinels name different primaries: ${named}`);
      const current = named[0]!;
      expectState(data.get(current)?.running === true && (await role(current)) === 'master', `the named primary ${current} is not a running master`);
      const replicas = running(data).filter((p) => p !== current);
      for (const port of replicas) {
        const info = parseInfo(await onData(port, 'INFO', 'replication'));
        expectState(Number(info.master_port) === current && info.master_link_status === 'up', `replica ${port} is not linked to ${current}`);
      }
      for (const port of sentinels) {
        const master = fields((await onSentinel(port, 'SENTINEL', 'MASTER', name)) as string[]);
        expectState(master.flags === 'master', `sentinel ${port} flags the primary ${master.flags}`);
        expectState(Number(master['num-other-sentinels']) >= sentinels.length - 1, `sentinel ${port} knows ${master['num-other-sentinels']} other sentinels`);
        const known = ((await onSentinel(port, 'SENTINEL', 'REPLICAS', name)) as string[][]).map(fields);
        for (const replica of replicas) {
          const entry = known.find((k) => Number(k.port) === replica);
          expectState(entry?.flags === 'slave', `sentinel ${port} sees replica ${replica} as ${entry?.flags ?? 'unknown'}`);
        }
      }
      return true;
    }, timeoutMs);
  }

  const stop = async () => {
    const all = [...watchers.values(), ...data.values()];
    await Promise.all(all.map((p) => p.kill('SIGKILL')));
    for (const p of all) removeDir(p.dir);
  };

  try {
    // Data nodes first and replicas synced before sentinels start: a sentinel learns the replicas from its
    // first INFO of the primary, and otherwise only at its next INFO, 10 s later.
    await Promise.all([...data.values()].map((p) => p.start()));
    await waitUntil('the replicas are in sync', async () => {
      return Number(parseInfo(await onData(primaryPort, 'INFO', 'replication')).connected_slaves) === servers.length - 1;
    }, DEFAULT_HEALTHY_TIMEOUT_MS);
    await Promise.all([...watchers.values()].map((p) => p.start()));
    await waitHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  const processOn = (port: number) => {
    const found = data.get(port) ?? watchers.get(port);
    if (!found) throw new Error(`no data node or sentinel on port ${port}`);
    return found;
  };

  return {
    name,
    sentinels: [...watchers.keys()].map((port) => ({ host: LOCALHOST, port })),
    servers,
    password,
    sentinelPassword,
    startMs: Date.now() - started,
    primary, role, waitHealthy, stop,
    async killPrimary() {
      const previous = (await primary()).port;
      const killedAt = Date.now();
      await processOn(previous).kill('SIGKILL');
      let current = previous;
      await waitUntil(`sentinels promote a replica of ${previous}`, async () => {
        const named = [...new Set(await Promise.all(running(watchers).map(askedPrimary)))];
        expectState(named.length === 1 && named[0] !== previous, `sentinels name ${named}`);
        current = named[0]!;
        return (await role(current)) === 'master';
      }, DEFAULT_HEALTHY_TIMEOUT_MS);
      return { previous, current, failoverMs: Date.now() - killedAt };
    },
    async failover() {
      // A failover that just ended may still be reconfiguring replicas: the sentinel would answer INPROG.
      await waitHealthy();
      const previous = (await primary()).port;
      await onSentinel(running(watchers)[0]!, 'SENTINEL', 'FAILOVER', name);
      await waitUntil(`${previous} is demoted`, async () => {
        const info = parseInfo(await onData(previous, 'INFO', 'replication'));
        expectState(info.role === 'slave', `${previous} is still ${info.role}`);
        return true;
      }, DEFAULT_HEALTHY_TIMEOUT_MS);
      await waitHealthy();
      return { previous, current: (await primary()).port };
    },
    async kill(port, signal = 'SIGKILL') {
      await processOn(port).kill(signal);
    },
    async restart(port) {
      await processOn(port).start();
      await waitHealthy();
    },
  };
}

/** SENTINEL MASTER / REPLICAS reply entries are flat [field, value, ...] arrays. */
function fields(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

function dataConfig(port: number, dir: string, options: RedisSentinelOptions, replicaOf?: number): string {
  return lines([
    `port ${port}`, `bind ${LOCALHOST}`, `dir ${dir}`, 'protected-mode no', 'save ""',
    // Redis waits 5 s by default before a diskless full sync; every (re)started replica would pay it.
    'repl-diskless-sync-delay 0',
    options.appendonly ? 'appendonly yes\nappendfsync always' : 'appendonly no',
    options.password ? `requirepass ${options.password}\nmasterauth ${options.password}` : '',
    replicaOf === undefined ? '' : `replicaof ${LOCALHOST} ${replicaOf}`,
  ]);
}

function sentinelConfig(port: number, dir: string, name: string, primaryPort: number, options: RedisSentinelOptions): string {
  return lines([
    `port ${port}`, `bind ${LOCALHOST}`, `dir ${dir}`, 'protected-mode no',
    `sentinel monitor ${name} ${LOCALHOST} ${primaryPort} ${options.quorum ?? 2}`,
    `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3_000}`,
    `sentinel parallel-syncs ${name} 1`,
    options.password ? `sentinel auth-pass ${name} ${options.password}` : '',
    // Sentinels also authenticate to each other with their own requirepass, so all share it.
    options.sentinelPassword ? `requirepass ${options.sentinelPassword}` : '',
  ]);
}

function lines(entries: string[]): string {
  return `${entries.filter((entry) => entry.length > 0).join('\n')}\n`;
}
