import { afterEach, describe, expect, test } from 'vitest';
import { eventually } from '../support/recorder.js';
import type { ReplicaFactory, ReplicaSet } from './replicas.js';

/** MAX_CONNECTIONS_PER_IP counted across client-servers (services/engine/connection-counter.ts), on every Redis deployment. */
export function connectionCounterContract(name: string, makeReplicas: ReplicaFactory): void {
  describe(`${name} counts connections per address across client-servers`, () => {
    const open: ReplicaSet[] = [];
    afterEach(async () => {
      while (open.length) await open.pop()!.close();
    });
    const replicas = async () => {
      const set = await makeReplicas(2, { presenceTtlSeconds: 3 });
      open.push(set);
      const [a, b] = set.replicas.map((r) => r.connectionCounter!);
      return { set, a: a!, b: b! };
    };
    const ip = () => `203.0.113.${Math.floor(Math.random() * 250)}-${Math.random()}`;

    test('admits up to the limit over every client-server together, and again after a release', async () => {
      const { a, b } = await replicas();
      const address = ip();
      const first = await a.acquire(address, 3);
      expect(first).toBeDefined();
      expect(await b.acquire(address, 3)).toBeDefined();
      expect(await a.acquire(address, 3)).toBeDefined();
      expect(await b.acquire(address, 3)).toBeUndefined();
      expect(await a.acquire(address, 3)).toBeUndefined();
      expect(await b.acquire(ip(), 3), 'another address has its own count').toBeDefined();
      first!();
      first!(); // twice: still one release
      await eventually(async () => {
        const again = await b.acquire(address, 3);
        return again !== undefined;
      }, 'a slot is free again');
      expect(await a.acquire(address, 3)).toBeUndefined();
    });

    test('a client-server that died without releasing stops counting within its lease (PRESENCE_TTL_SECONDS)', async () => {
      const { set, a, b } = await replicas();
      const address = ip();
      for (let i = 0; i < 2; i++) expect(await a.acquire(address, 2)).toBeDefined();
      expect(await b.acquire(address, 2)).toBeUndefined();
      await set.replicas[0]!.crash();
      await eventually(async () => (await b.acquire(address, 2)) !== undefined, 'the dead replica\'s connections expired', 10_000);
    });

    test('a live client-server keeps its share past the lease: it renews it', async () => {
      const { a, b } = await replicas();
      const address = ip();
      expect(await a.acquire(address, 1)).toBeDefined();
      await new Promise((r) => setTimeout(r, 4000));
      expect(await b.acquire(address, 1)).toBeUndefined();
    });
  });
}
