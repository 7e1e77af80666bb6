import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../../services/runtime/config/load.js';
import { batchBodyLimit } from '../../../services/source-server/routes/batch-body.js';
import { allRenderings, byKind, type K8sObject } from '../../support/manifests.js';

/**
 * The Ingress never refuses a body the source-server accepts: nginx's limit
 * is at least the batch body limit the code computes from the rendered
 * MAX_BATCH_EVENTS and MAX_EVENT_BYTES (read from the code, not copied here),
 * so a valid batch is never answered with nginx's own HTML 413.
 */

const BODY_SIZE = 'nginx.ingress.kubernetes.io/proxy-body-size';

/** nginx's size syntax: bytes, or a k / m / g suffix of 1024 steps; 0 means no limit. */
function nginxBytes(size: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(size.trim());
  if (!match) throw new Error(`"${size}" is not an nginx size`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = Number(match[1]) * unit;
  return bytes === 0 ? Infinity : bytes;
}

/** The source-server's batch body limit for the settings this rendering gives it. */
function sourceBodyLimit(objects: K8sObject[]): number {
  const data = (byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'eventrelay-config')?.data ?? {}) as Record<string, string>;
  const config = loadConfig({ MAX_EVENT_BYTES: data.MAX_EVENT_BYTES, MAX_BATCH_EVENTS: data.MAX_BATCH_EVENTS });
  return batchBodyLimit(config);
}

describe.each(allRenderings())('the $name rendering', ({ objects }) => {
  test('lets through every body the source-server accepts (its batch limit, computed by the code)', () => {
    const limit = sourceBodyLimit(objects);
    expect(limit).toBeGreaterThan(0);
    for (const ingress of byKind(objects, 'Ingress')) {
      const size = ingress.metadata.annotations?.[BODY_SIZE];
      // nginx's default without the annotation is 1 MiB.
      expect(nginxBytes(size ?? '1m'), `${BODY_SIZE} of Ingress/${ingress.metadata.name}`).toBeGreaterThanOrEqual(limit);
    }
  });
});

describe('nginx sizes', () => {
  test('are read in 1024 steps, and 0 is no limit', () => {
    expect(nginxBytes('8m')).toBe(8 * 1024 * 1024);
    expect(nginxBytes('512k')).toBe(512 * 1024);
    expect(nginxBytes('100')).toBe(100);
    expect(nginxBytes('0')).toBe(Infinity);
    expect(() => nginxBytes('8 MB')).toThrow();
  });
});
