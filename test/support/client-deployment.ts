import { MemoryBroker } from '../../services/engine/memory/memory-broker.js';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer } from '../../tools/redis-server.js';
import { memoryReplicas, startClientServer, type ClientFixture, type EngineFactory } from './client-server.js';

/**
 * Where the client-servers of a test deployment keep their shared state:
 * the tests of presence, publish, multi-channel SSE and disconnects run
 * against each kind (`DEPLOYMENTS`), so every guarantee is checked on the
 * in-memory broker and on a real Redis alike.
 */
export interface DeploymentKind {
  name: string;
  /** A fresh broker (a MemoryBroker, a redis-server) and the engine factory of its replicas. */
  start(env: Record<string, string>): Promise<{ factory: EngineFactory; stop(): Promise<void> }>;
}

export const memoryDeployment: DeploymentKind = {
  name: 'memory',
  async start(env) {
    const broker = new MemoryBroker({ config: loadConfig(env) });
    return { factory: memoryReplicas(broker), stop: async () => broker.close() };
  },
};

/** Each client-server on its own Redis connections, as `npm run start:client` runs them. */
export const redisDeployment: DeploymentKind = {
  name: 'redis',
  async start() {
    const redis = await startRedisServer();
    const factory: EngineFactory = ({ config, logger }) => createEngine({ config: { ...config, redisUrl: redis.url }, logger }, { subscribe: true });
    return { factory, stop: () => redis.stop() };
  },
};

/** The kinds the presence tests run on. */
export const DEPLOYMENTS: DeploymentKind[] = [memoryDeployment, redisDeployment];
/** The kinds the tests that need no presence (publish, multi-channel SSE, disconnects) run on. */
export const BUS_DEPLOYMENTS: DeploymentKind[] = [memoryDeployment, redisDeployment];

/** One client-server on a broker of its own; closing it stops the broker too. */
export async function startSingle(kind: DeploymentKind, env: Record<string, string> = {}): Promise<ClientFixture> {
  const deployment = await startDeployment(kind, 1, env);
  const server = deployment.servers[0]!;
  return { ...server, close: () => deployment.close() };
}

export interface Deployment {
  /** Client-servers sharing one broker: replicas of one deployment. */
  servers: ClientFixture[];
  /** Another replica on the same broker. */
  add(extraEnv?: Record<string, string>): Promise<ClientFixture>;
  close(): Promise<void>;
}

export async function startDeployment(kind: DeploymentKind, replicas: number, env: Record<string, string> = {}): Promise<Deployment> {
  const broker = await kind.start(env);
  const servers: ClientFixture[] = [];
  const add = async (extraEnv: Record<string, string> = {}) => {
    const server = await startClientServer({ LOG_LEVEL: 'warn', ...env, ...extraEnv }, undefined, { engine: broker.factory });
    servers.push(server);
    return server;
  };
  try {
    for (let i = 0; i < replicas; i++) await add();
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    await broker.stop();
    throw err;
  }
  return {
    servers,
    add,
    async close() {
      await Promise.allSettled(servers.map((s) => s.close()));
      await broker.stop();
    },
  };
}
