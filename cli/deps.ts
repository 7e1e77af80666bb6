/** Everything the commands take from the outside world, handed in by main.ts. */
export interface CliDeps {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  fetch: typeof fetch;
  /** Aborted on SIGINT / SIGTERM: `tail` then closes its connection and exits 0. */
  signal: AbortSignal;
}

/** The local stack's addresses (embedded mode, `npm start`). */
export const DEFAULT_SOURCE_URL = 'http://localhost:8080';
export const DEFAULT_CLIENT_URL = 'http://localhost:8081';
