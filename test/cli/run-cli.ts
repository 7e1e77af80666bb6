import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The built binary, exactly what `npx eventrelay` runs (package.json bin).
 * CLI_UNDER_TEST points the suite at another build (e.g. an older one, to
 * see which tests it fails).
 */
export const CLI = process.env.CLI_UNDER_TEST ?? 'cli/dist/eventrelay.js';
/** A CLI run that takes longer is stuck (e.g. retrying forever): it is killed and reported with code null. */
export const RUN_TIMEOUT_MS = 20_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  /** The executable to run instead of `node cli/dist/eventrelay.js` (an installed `eventrelay`). */
  bin?: string;
  cwd?: string;
  /** Kill the run after this long. Default: never for startCli, RUN_TIMEOUT_MS for runCli. */
  timeoutMs?: number;
}

/** Only PATH from this process: the CLI must not pick up the developer's EVENTRELAY_* variables. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...extra };
}

export function startCli(args: string[], options: RunOptions = {}): ChildProcess & { output: CliRun; done: Promise<CliRun> } {
  const [command, argv] = options.bin ? [options.bin, args] : [process.execPath, [CLI, ...args]];
  const child = spawn(command, argv, { cwd: options.cwd ?? ROOT, env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const output: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  child.stdin.end(options.input ?? '');
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ...output, code });
    }),
  );
  return Object.assign(child, { output, done });
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return startCli(args, { timeoutMs: RUN_TIMEOUT_MS, ...options }).done;
}
