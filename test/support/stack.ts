/**
 * The end-to-end suite runs against a Stack: real processes started by the
 * test (E2E_TARGET unset or "local") or the docker compose stack
 * (E2E_TARGET=compose, see compose-stack.ts). The target is configuration;
 * the tests are the same.
 */
export interface Stack {
  /** Base URL of the source-server, e.g. http://127.0.0.1:8080 */
  readonly sourceUrl: string;
  /** Base URLs of the client-servers (at least two). */
  readonly clientUrls: string[];
  /** A publisher key the source-server accepts. */
  readonly publisherKey: string;
  /** The SUBSCRIBER_JWT_SECRET of the client-servers, to mint tokens. */
  readonly jwtSecret: string;
  /** Whether Redis keeps acknowledged events across a restart (AOF, appendfsync always). */
  readonly persistence: 'aof' | 'none';
  /** Restarts Redis (same address); resolves once it answers again. */
  restartRedis(): Promise<void>;
  /** SIGKILLs client-server `index`; its clients must resume on another. */
  killClient(index: number): Promise<void>;
  /** Starts client-server `index` again after killClient; resolves when ready. */
  startClient(index: number): Promise<void>;
  /** Tears everything down. */
  stop(): Promise<void>;
}

export interface StackOptions {
  persistence?: 'aof' | 'none';
}

/** The stack named by E2E_TARGET: local processes (default) or the docker compose stack. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const target = process.env.E2E_TARGET ?? 'local';
  if (target === 'local') return (await import('./local-stack.js')).startLocalStack(options);
  if (target === 'compose') {
    // Loaded by name so that local runs never load docker-specific code.
    const composeModule: string = './compose-stack.js';
    const { startComposeStack } = (await import(composeModule)) as { startComposeStack(o: StackOptions): Promise<Stack> };
    return startComposeStack(options);
  }
  throw new Error(`E2E_TARGET must be local or compose, got "${target}"`);
}
