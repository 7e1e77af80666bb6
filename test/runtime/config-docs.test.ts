import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { TABLE_END, TABLE_START, configTable } from '../../services/runtime/config/docs-table.js';
import { CONFIG_FIELDS } from '../../services/runtime/config/schema.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README configuration table', () => {
  test('is the one the config schema generates (run npm run docs:config after changing a variable)', () => {
    const start = README.indexOf(TABLE_START);
    const end = README.indexOf(TABLE_END);
    expect(start, 'the README has the table markers').toBeGreaterThan(0);
    expect(README.slice(start + TABLE_START.length, end).trim()).toBe(configTable());
  });

  test('has one row per variable, each with a meaning', () => {
    const rows = configTable().split('\n').slice(2);
    expect(rows).toHaveLength(Object.keys(CONFIG_FIELDS).length);
    for (const field of Object.values(CONFIG_FIELDS)) expect(field.doc.length, field.env).toBeGreaterThan(10);
    expect(new Set(Object.values(CONFIG_FIELDS).map((f) => f.env)).size).toBe(rows.length);
  });
});
