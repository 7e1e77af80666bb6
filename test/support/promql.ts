/**
 * Just enough PromQL to find which series a query reads, and the Prometheus
 * text format to find which series a service exports: the dashboard check
 * compares the two.
 */

/** Words of the language that are neither metrics nor followed by "(" (aggregation modifiers, set operators, number literals). */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** The metric names a PromQL expression selects, e.g. `rate(x_total{a="b"}[5m])` → ["x_total"]. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    // String literals (label values, regexes) could hold anything.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // Label matchers, ranges and subqueries, label lists of by/without/on/ignoring/group_*.
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Grafana's variables ($__rate_interval, ${namespace}).
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const before = stripped.slice(0, match.index);
    const after = stripped.slice(match.index + word.length);
    if (/[0-9.]$/.test(before)) continue; // the unit or exponent of a number: 5m, 1e3
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return [...new Set(names)];
}

/** The metrics a Grafana variable query reads: `label_values(metric{...}, label)`, `query_result(expr)`, or none. */
export function variableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\((.*),\s*\w+\s*\)\s*$/.exec(query);
  if (labelValues) return metricNames(labelValues[1]!);
  if (/^\s*label_values\(\s*\w+\s*\)\s*$/.test(query)) return [];
  const result = /^\s*query_result\((.*)\)\s*$/.exec(query);
  return metricNames(result ? result[1]! : query);
}

/**
 * The series names a /metrics answer exports, from its `# TYPE` lines so that
 * a family with no sample yet (a labelled counter never incremented) counts:
 * a histogram exports `_bucket`, `_sum` and `_count`.
 */
export function exportedSeries(exposition: string): Set<string> {
  const series = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) series.add(name + suffix);
    else series.add(name);
  }
  return series;
}
