/** What `eventrelay` exits with; scripts branch on these (documented in cli/README.md). */
export const ExitCode = {
  ok: 0,
  /** The server answered with an error, or could not be reached. */
  failed: 1,
  /** Bad arguments or input: unknown option, invalid JSON, unreadable file, missing secret. */
  usage: 2,
  /** Credentials missing or refused: 401 / 403, close codes 4001 / 1008. */
  auth: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as one line on stderr and turns into an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
