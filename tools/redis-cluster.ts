import {
  LOCALHOST, assertRedis7Installed, createRedisProcess, expectState, freePort, makeTempDir, parseInfo,
  redisCommand, removeDir, waitUntil, type RedisProcess,
} from './redis-process.js';
import { createCluster, nodeArgs } from './cluster-create.js';
import { parseClusterNodes, type ClusterNodeLine } from './cluster-nodes.js';

/**
 * A real Redis Cluster for tests (3 masters + 3 replicas by default), each node its own redis-server on a
 * free port in its own directory. Nodes can be SIGKILLed, restarted, failed over and slots migrated, and
 * every such call returns only once the cluster is healthy again (or the caller asked not to wait).
 */
export interface RedisClusterOptions {
  /** Default 3: the smallest cluster redis-cli accepts. */
  masters?: number;
  /** Default 1. */
  replicasPerMaster?: number;
  /** AOF with `appendfsync always` on every node, so a restarted master keeps its acknowledged writes. Default false. */
  appendonly?: boolean;
  /**
   * `cluster-node-timeout`. Default 1000 ms: a killed master is marked failed after about this long and its
   * replica elected within about another second (Redis' default of 15 s would make every chaos test slow).
   */
  nodeTimeoutMs?: number;
  /** `requirepass` and `masterauth` on every node. */
  password?: string;
}

export interface ClusterNode {
  readonly port: number;
  /** The OS pid, undefined while killed. */
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** For a replica: the port of its master. */
  readonly masterPort?: number;
  /** Inclusive slot ranges served (masters only). */
  readonly slots: ReadonlyArray<readonly [number, number]>;
  /** The cluster has flagged this node as failed (fail or pfail). */
  readonly failed: boolean;
}

export interface RedisClusterHandle {
  /** Startup nodes for `new Cluster(seeds)`: every node, masters and replicas. */
  readonly seeds: ReadonlyArray<{ host: string; port: number }>;
  readonly password?: string;
  /** How long start took (spawn, create, wait until healthy), for reports. */
  readonly startMs: number;
  /** The cluster's view of its nodes (asked of a running node), with pids. */
  nodes(): Promise<ClusterNode[]>;
  node(port: number): Promise<ClusterNode>;
  /** The slot of a key (CLUSTER KEYSLOT: the server's own hash-tag rules). */
  slotOf(key: string): Promise<number>;
  /** The port of the master the cluster assigns this slot (or key's slot) to. */
  masterOf(slotOrKey: number | string): Promise<number>;
  /** A key (`<prefix>{<tag>}`) whose slot the given master owns: for a per-shard canary or to aim a test at one shard. */
  keyOn(masterPort: number, prefix?: string): Promise<string>;
  /** Sends the signal (default SIGKILL); waits for exit on SIGKILL/SIGTERM. Does not wait for the cluster to heal. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed node again (same port, directory, nodes.conf) and waits until the cluster is healthy. */
  restart(port: number): Promise<void>;
  /** CLUSTER FAILOVER on a replica (graceful, no write lost); resolves when it is master and the cluster is healthy. */
  failover(replicaPort: number): Promise<void>;
  /** Moves one slot and its keys to the master on `toPort` (the redis-cli reshard steps); resolves when all nodes agree. */
  migrateSlot(slot: number, toPort: number): Promise<void>;
  /**
   * Waits until every running node says cluster_state:ok with all 16384 slots ok, all running nodes agree on
   * who owns which slot, none flags a running node as failed, and every running replica's link is up.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SLOT_COUNT = 16_384;
const DEFAULT_HEALTHY_TIMEOUT_MS = 20_000;
/** MIGRATE moves keys in batches of this many: big enough to be quick, small enough to stay under the MIGRATE timeout. */
const MIGRATE_BATCH = 100;
const MIGRATE_TIMEOUT_MS = 5_000;

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  assertRedis7Installed();
  const started = Date.now();
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const { password } = options;
  const processes = new Map<number, RedisProcess>();
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort();
    const dir = makeTempDir('cluster');
    processes.set(port, createRedisProcess({ port, dir, password, args: nodeArgs(port, dir, options) }));
  }
  const ports = [...processes.keys()];
  const run = (port: number, ...args: Array<string | number>) => redisCommand(port, args, { password });
  const runningPorts = () => ports.filter((port) => processes.get(port)?.running);

  async function view(fromPort?: number): Promise<ClusterNodeLine[]> {
    const asked = fromPort ?? runningPorts()[0];
    if (asked === undefined) throw new Error('no cluster node is running');
    return parseClusterNodes(String(await run(asked, 'CLUSTER', 'NODES')));
  }

  async function nodes(): Promise<ClusterNode[]> {
    const lines = await view();
    const portOfId = new Map(lines.map((line) => [line.id, line.port]));
    return lines.map((line) => {
      const proc = processes.get(line.port);
      return {
        port: line.port, id: line.id, role: line.role, slots: line.slots, failed: line.failed,
        masterPort: line.masterId ? portOfId.get(line.masterId) : undefined,
        pid: proc?.pid, running: proc?.running ?? false,
      };
    });
  }

  async function node(port: number): Promise<ClusterNode> {
    const found = (await nodes()).find((candidate) => candidate.port === port);
    if (!found) throw new Error(`no cluster node on port ${port}`);
    return found;
  }

  async function slotOf(key: string): Promise<number> {
    return Number(await run(runningPorts()[0]!, 'CLUSTER', 'KEYSLOT', key));
  }

  async function masterOf(slotOrKey: number | string): Promise<number> {
    const slot = typeof slotOrKey === 'number' ? slotOrKey : await slotOf(slotOrKey);
    const owner = (await nodes()).find((n) => n.role === 'master' && n.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no master owns slot ${slot}`);
    return owner.port;
  }

  async function waitHealthy(timeoutMs = DEFAULT_HEALTHY_TIMEOUT_MS): Promise<void> {
    await waitUntil('the cluster is healthy', async () => {
      const running = runningPorts();
      let agreed: string | undefined;
      for (const port of running) {
        const info = parseInfo(await run(port, 'CLUSTER', 'INFO'));
        expectState(info.cluster_state === 'ok', `node ${port} says cluster_state:${info.cluster_state}`);
        expectState(Number(info.cluster_slots_ok) === SLOT_COUNT, `node ${port} has ${info.cluster_slots_ok} slots ok`);
        const lines = await view(port);
        // Roles too, not only slot owners: right after a failover a node may still list the demoted master as a
        // master without slots, and a test that picks "a master" from that view would pick a replica.
        const topology = lines.map((l) => `${l.port}:${l.role}:${l.masterId ?? ''}:${JSON.stringify(l.slots)}`).sort().join(' ');
        expectState(agreed === undefined || topology === agreed, `node ${port} disagrees on the topology: ${topology} vs ${agreed}`);
        agreed = topology;
        const flagged = lines.filter((l) => l.failed && running.includes(l.port));
        expectState(flagged.length === 0, `node ${port} flags running node(s) ${flagged.map((l) => l.port)} as failed`);
        const self = lines.find((l) => l.myself);
        if (self?.role === 'replica') {
          const replication = parseInfo(await run(port, 'INFO', 'replication'));
          expectState(replication.master_link_status === 'up', `replica ${port} link is ${replication.master_link_status}`);
        }
      }
      return true;
    }, timeoutMs);
  }

  async function failover(replicaPort: number): Promise<void> {
    const before = await node(replicaPort);
    if (before.role !== 'replica') throw new Error(`failover: node ${replicaPort} is a ${before.role}, not a replica`);
    await run(replicaPort, 'CLUSTER', 'FAILOVER');
    await waitUntil(`replica ${replicaPort} is promoted`, async () => {
      return parseInfo(await run(replicaPort, 'INFO', 'replication')).role === 'master';
    }, DEFAULT_HEALTHY_TIMEOUT_MS);
    await waitHealthy();
  }

  async function migrateSlot(slot: number, toPort: number): Promise<void> {
    const all = await nodes();
    const target = all.find((n) => n.port === toPort);
    const sourcePort = await masterOf(slot);
    const source = all.find((n) => n.port === sourcePort)!;
    if (target?.role !== 'master') throw new Error(`migrateSlot: node ${toPort} is not a master`);
    if (source.port === toPort) return;
    await run(toPort, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await run(source.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    const auth = password ? ['AUTH', password] : [];
    for (;;) {
      const keys = (await run(source.port, 'CLUSTER', 'GETKEYSINSLOT', slot, MIGRATE_BATCH)) as string[];
      if (keys.length === 0) break;
      await run(source.port, 'MIGRATE', LOCALHOST, toPort, '', 0, MIGRATE_TIMEOUT_MS, ...auth, 'KEYS', ...keys);
    }
    // The target first, so the source never points clients at a node that still rejects the slot.
    const liveMasters = all.filter((n) => n.role === 'master' && n.running && !n.failed).map((n) => n.port);
    for (const port of [toPort, source.port, ...liveMasters.filter((p) => p !== toPort && p !== source.port)]) {
      await run(port, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    }
    await waitUntil(`every node sees slot ${slot} on ${toPort}`, async () => {
      for (const port of runningPorts()) {
        const owner = (await view(port)).find((l) => l.role === 'master' && l.slots.some(([a, b]) => slot >= a && slot <= b));
        expectState(owner?.port === toPort, `node ${port} sees slot ${slot} on ${owner?.port}`);
      }
      return true;
    }, DEFAULT_HEALTHY_TIMEOUT_MS);
    await waitHealthy();
  }

  async function keyOn(masterPort: number, prefix = 'key'): Promise<string> {
    const owners = await nodes();
    for (let i = 0; i < 10_000; i++) {
      const key = `${prefix}{${i}}`;
      const slot = await slotOf(key);
      if (owners.some((n) => n.port === masterPort && n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b))) return key;
    }
    throw new Error(`no key found for master ${masterPort}`);
  }

  const stop = async () => {
    await Promise.all([...processes.values()].map((p) => p.kill('SIGKILL')));
    for (const p of processes.values()) removeDir(p.dir);
  };

  try {
    await Promise.all([...processes.values()].map((p) => p.start()));
    await createCluster(ports, replicas, password);
    await waitHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    seeds: ports.map((port) => ({ host: LOCALHOST, port })),
    password,
    startMs: Date.now() - started,
    nodes, node, slotOf, masterOf, keyOn, waitHealthy, failover, migrateSlot, stop,
    async kill(port, signal = 'SIGKILL') {
      await processOn(processes, port).kill(signal);
    },
    async restart(port) {
      await processOn(processes, port).start();
      await waitHealthy();
    },
  };
}

function processOn(processes: Map<number, RedisProcess>, port: number): RedisProcess {
  const found = processes.get(port);
  if (!found) throw new Error(`no cluster node on port ${port}`);
  return found;
}
