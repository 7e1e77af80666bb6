import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  remove(): void;
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl (fails, never skips, without it). */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'eventrelay-tls-'));
  const run = (args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.error || result.status !== 0) {
      throw new Error(`openssl ${args[0]} failed (install openssl to run the TLS tests): ${result.error?.message ?? result.stderr}`);
    }
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=eventrelay-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.crt', '-days', '1', '-extfile', 'san.ext']);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'redis.crt'),
    keyFile: join(dir, 'redis.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
