import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO_ROOT } from '../../support/manifests.js';

/**
 * `engines` says Node >= 20, so every package the lockfile installs must
 * accept the Node this runs on: `npm ci --engine-strict` (a dry run of the
 * lockfile, in a scratch copy) turns the EBADENGINE warning into an error.
 * package.json's `overrides` pins cookie 1.x under light-my-request (fastify's
 * inject) for this: cookie 2 needs Node 22, and light-my-request only calls
 * its stringifySetCookie, which 1.1 has with the same behaviour.
 */
test(`every locked package supports this Node (${process.version}): npm ci warns no EBADENGINE`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'eventrelay-engines-'));
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(REPO_ROOT, file), join(scratch, file));
    const result = spawnSync('npm', ['ci', '--dry-run', '--engine-strict', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toContain('EBADENGINE');
    expect(result.status, output).toBe(0);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}, 150_000);
