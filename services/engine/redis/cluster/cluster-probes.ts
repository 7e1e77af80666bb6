import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { ShardCanary } from './shard-canary.js';
import { canaryTopicOn, keySlot, masters, ownerOf } from './slots.js';

interface Probe {
  topic: string;
  canary: ShardCanary;
}

/**
 * A process that only publishes (the source-server) on a Redis Cluster
 * holds no pub/sub connection, but readiness must still follow every shard:
 * each interval a canary is SPUBLISHed (to no receiver) on a topic of each
 * master's own slots. A master that does not answer makes readiness name it.
 */
export class ClusterProbes {
  private readonly probes = new Map<string, Probe>();
  private readonly base = `er:canary:{${randomUUID()}`;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cluster: Cluster,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    cluster.on('refresh', this.reconcile);
    this.reconcile();
    this.timer = setInterval(() => this.tick(), intervalMs).unref();
  }

  problem(): string | undefined {
    const problems: string[] = [];
    for (const [key, probe] of this.probes) {
      const problem = probe.canary.problem();
      if (problem) problems.push(`Redis shard ${key}: ${problem}`);
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  close(): void {
    clearInterval(this.timer);
    this.cluster.off('refresh', this.reconcile);
  }

  private readonly reconcile = (): void => {
    const owned = masters(this.cluster);
    if (owned.size === 0) return;
    for (const key of this.probes.keys()) if (!owned.has(key)) this.probes.delete(key);
    for (const key of owned.keys()) {
      const probe = this.probes.get(key);
      if (probe && ownerOf(this.cluster, keySlot(probe.topic)) === key) continue;
      const topic = canaryTopicOn(this.cluster, key, this.base);
      if (topic) this.probes.set(key, { topic, canary: probe?.canary ?? new ShardCanary(false) });
    }
  };

  private tick(): void {
    if (this.cluster.status !== 'ready') return;
    for (const [key, { topic, canary }] of this.probes) {
      canary.tick(
        (seq) =>
          this.cluster.spublish(topic, String(seq)).catch((err: unknown) => {
            // Once per outage, not every interval: the readiness reason says the rest.
            if (!canary.problem()) this.logger.warn({ shard: key, err: err instanceof Error ? err.message : String(err) }, 'a Redis shard did not answer the canary');
            throw err;
          }),
        () => {},
        () => {},
      );
    }
  }
}
