import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built binary, exactly what `npx eventrelay` runs (package.json bin). */
export const CLI = 'dist/cli/eventrelay.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
}

/** Only PATH from this process: the CLI must not pick up the developer's EVENTRELAY_* variables. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...extra };
}

export function startCli(args: string[], options: RunOptions = {}): ChildProcess & { output: CliRun; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const output: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  child.stdin.end(options.input ?? '');
  const done = new Promise<CliRun>((resolve) => child.once('close', (code) => resolve({ ...output, code })));
  return Object.assign(child, { output, done });
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return startCli(args, options).done;
}
