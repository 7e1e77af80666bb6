// Reads a service's Prometheus endpoint: the prom-client default metrics the
// services export (RSS, heap, event-loop delay) are what the soak plots.
import { get } from 'node:http';

export interface ProcessMetrics {
  rssBytes: number;
  heapUsedBytes: number;
  /** p99 event-loop delay since the previous scrape (prom-client resets its histogram on each). */
  eventLoopP99Ms: number;
}

/** `name` → value of the unlabelled-or-first sample of each metric in Prometheus text format. */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!values.has(name) && Number.isFinite(value)) values.set(name, value);
  }
  return values;
}

export function scrape(url: string): Promise<ProcessMetrics> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const m = parsePrometheus(text);
        const need = (name: string) => {
          const v = m.get(name);
          if (v === undefined) throw new Error(`${url} has no ${name}`);
          return v;
        };
        try {
          resolve({
            rssBytes: need('process_resident_memory_bytes'),
            heapUsedBytes: need('nodejs_heap_size_used_bytes'),
            eventLoopP99Ms: need('nodejs_eventloop_lag_p99_seconds') * 1000,
          });
        } catch (err) {
          reject(err as Error);
        }
      });
    }).on('error', reject);
  });
}
