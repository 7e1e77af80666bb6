import { CONFIG_FIELDS } from './schema.js';

/**
 * The README's configuration table, generated from the schema rows
 * (`npm run docs:config` writes it between the markers; a test fails when
 * the README's copy and this disagree).
 */
export const TABLE_START = '<!-- config-table:start (generated from services/runtime/config/schema.ts by npm run docs:config) -->';
export const TABLE_END = '<!-- config-table:end -->';

export function configTable(): string {
  const rows = Object.values(CONFIG_FIELDS).map((f) => `| \`${f.env}\` | ${f.defaultText} | ${f.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
