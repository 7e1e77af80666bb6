import { CliError, ExitCode, type ExitCodeValue } from './exit-codes.js';

/** The exit code for a server's refusal: credentials (3), input the server judged bad (2), anything else (1). */
export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 400 || status === 413 || status === 415) return ExitCode.usage;
  return ExitCode.failed;
}

export interface ServerError {
  code: string;
  message: string;
  index?: number;
}

/** PROTOCOL.md's `{"error":{"code","message"}}`, or the start of whatever a proxy answered. */
export function parseServerError(status: number, text: string): ServerError {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; index?: unknown } };
    if (typeof parsed.error?.code === 'string') {
      const error: ServerError = { code: parsed.error.code, message: typeof parsed.error.message === 'string' ? parsed.error.message : '' };
      if (typeof parsed.error.index === 'number') error.index = parsed.error.index;
      return error;
    }
  } catch {
    // Not one of our servers, or a proxy's error page: show its start.
  }
  // A proxy's error page: its first words, on one line.
  return { code: `http_${status}`, message: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120) };
}

/** `publish failed: 400 invalid_channel: <the server's message><hint>`, with its exit code. */
export function httpError(what: string, status: number, text: string, hint = ''): CliError {
  const error = parseServerError(status, text);
  const where = error.index === undefined ? '' : ` (event ${error.index})`;
  return new CliError(`${what} failed: ${status} ${error.code}: ${error.message}${where}${hint}`, exitCodeForStatus(status));
}
