/**
 * `npm run docs:config`: writes the README's configuration table from the
 * config schema (services/runtime/config/schema.ts), between its markers.
 * test/runtime/config-docs.test.ts fails when the two disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TABLE_END, TABLE_START, configTable } from '../services/runtime/config/docs-table.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const start = text.indexOf(TABLE_START);
const end = text.indexOf(TABLE_END);
if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} markers`);
writeFileSync(readme, `${text.slice(0, start + TABLE_START.length)}\n${configTable()}\n${text.slice(end)}`);
console.log('README.md: configuration table written from the schema');
