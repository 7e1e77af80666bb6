import { describe, expect, test } from 'vitest';
import type { LoadResult } from '../../bench/lib/load-run.js';
import { highestPassingRate, median, medianRows, passes, renderChart, renderMarkdown } from '../../bench/lib/report.js';
import { summarizeProfile } from '../../bench/lib/profile-summary.js';
import { textFrame } from '../../services/client-server/transports/ws/ws-frame.js';

function run(target: string, requested: number, overrides: Partial<LoadResult> = {}): LoadResult {
  return {
    target, subscribers: 1000, requested, achieved: requested, eventsPerSecond: requested / 100,
    p50: 1, p99: 5, p999: 8, max: 10, lost: 0, duplicates: 0, outOfOrder: 0, disconnects: 0, publishFailed: 0,
    cpuPerDelivery: 2, redisCpuPerDelivery: 0.5, generatorCpu: 30, publisherCpu: 5, ...overrides,
  };
}

describe('the benchmark report', () => {
  test('the median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  test('a ramp step with any loss, reordering, a p99 at the limit or a shortfall does not pass', () => {
    expect(passes(run('eventrelay', 1000))).toBe(true);
    expect(passes(run('eventrelay', 1000, { lost: 1 }))).toBe(false);
    expect(passes(run('eventrelay', 1000, { outOfOrder: 1 }))).toBe(false);
    expect(passes(run('eventrelay', 1000, { p99: 50 }))).toBe(false);
    expect(passes(run('eventrelay', 1000, { achieved: 900 }))).toBe(false);
  });

  test('the highest passing rate ignores the failing steps above it', () => {
    const ramp = [run('floor', 1000), run('floor', 2000), run('floor', 4000, { p99: 80 })];
    expect(highestPassingRate(ramp, 'floor')).toBe(2000);
    expect(highestPassingRate(ramp, 'socketio')).toBe(0);
  });

  test('medians are taken per target and loss is summed over every run', () => {
    const rows = medianRows([run('eventrelay', 10, { cpuPerDelivery: 1 }), run('eventrelay', 10, { cpuPerDelivery: 3, lost: 2 }), run('floor', 10)]);
    expect(rows.map((r) => [r.target, r.cpuPerDelivery, r.loss])).toEqual([['eventrelay', 2, 2], ['floor', 2, 0]]);
  });

  test('the markdown carries the command, the ratios against each peer and the chart', () => {
    const md = renderMarkdown({
      command: 'npm run bench', date: 'd', machine: 'm', conditions: 'c', subscribers: 1000, channels: 10, dataBytes: 100,
      fixed: [run('eventrelay', 25000, { cpuPerDelivery: 1 }), run('floor', 25000, { cpuPerDelivery: 4 }), run('socketio', 25000, { cpuPerDelivery: 8 })],
      ramp: [], idle: [], publishPath: [], chartFile: 'bench/latency-vs-rate.svg',
    });
    expect(md).toContain('`npm run bench`');
    expect(md).toContain('0.25× of the bare floor, 0.13× of Socket.IO');
    expect(md).toContain('](bench/latency-vs-rate.svg)');
  });

  test('the chart draws one line per target', () => {
    const svg = renderChart([run('eventrelay', 1000), run('eventrelay', 2000), run('floor', 1000)]);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });

  test('a profile summary ranks functions by their own samples', () => {
    const frame = (functionName: string) => ({ functionName, url: 'file:///x/hub.js', lineNumber: 0 });
    const top = summarizeProfile({ nodes: [{ id: 1, callFrame: frame('a'), hitCount: 1 }, { id: 2, callFrame: frame('b'), hitCount: 3 }] });
    expect(top[0]).toEqual({ name: 'b hub.js:1', selfPercent: 75 });
  });
});

describe('the precomputed WebSocket frame', () => {
  test.each([0, 125, 126, 65535, 65536])('has the RFC 6455 header for a %i-byte payload', (length) => {
    const frame = textFrame(Buffer.alloc(length, 0x61));
    expect(frame[0]).toBe(0x81);
    const [indicator, header] = length < 126 ? [length, 2] : length < 65536 ? [126, 4] : [127, 10];
    expect(frame[1]).toBe(indicator);
    if (indicator === 126) expect(frame.readUInt16BE(2)).toBe(length);
    if (indicator === 127) expect(Number(frame.readBigUInt64BE(2))).toBe(length);
    expect(frame.length).toBe(header + length);
  });
});
