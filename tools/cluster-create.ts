import { spawn } from 'node:child_process';
import { LOCALHOST } from './redis-process.js';

// Starting a cluster: the redis-server arguments of one node, and `redis-cli --cluster create` over all of them.

/** What nodeArgs needs of the cluster options (redis-cluster.ts). */
export interface ClusterNodeSettings {
  appendonly?: boolean;
  nodeTimeoutMs?: number;
  password?: string;
}

export function nodeArgs(port: number, dir: string, options: ClusterNodeSettings): string[] {
  return [
    '--port', String(port), '--bind', LOCALHOST, '--dir', dir, '--protected-mode', 'no', '--save', '',
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1_000),
    // Redis waits 5 s by default before a diskless full sync, hoping more replicas join; every (re)started replica would pay it.
    '--repl-diskless-sync-delay', '0',
    ...(options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []),
  ];
}

/** `redis-cli --cluster create`: the first N nodes become masters and the rest their replicas. */
export function createCluster(ports: number[], replicas: number, password?: string): Promise<void> {
  const args = ['--cluster', 'create', ...ports.map((p) => `${LOCALHOST}:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'];
  // REDISCLI_AUTH rather than -a: same effect without the "password on the command line" warning.
  const env = password ? { ...process.env, REDISCLI_AUTH: password } : process.env;
  return new Promise((resolve, reject) => {
    const cli = spawn('redis-cli', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (chunk) => (output += chunk));
    cli.stderr.on('data', (chunk) => (output += chunk));
    cli.once('error', reject);
    cli.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}:\n${output}`))));
  });
}
