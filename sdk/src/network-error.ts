/**
 * Names the cause of a failed connection in words a user can act on, from
 * the error Node's fetch, `ws` or `net` raise. fetch wraps the cause
 * (`TypeError: fetch failed`, `.cause`), and a host with several addresses
 * fails with an AggregateError (`.errors`): both are searched for a code.
 */
export function describeNetworkError(err: unknown): string {
  const found = findCoded(err);
  const code = found?.code;
  const host = found?.hostname ?? (found?.address === undefined ? '' : `${found.address}${found.port === undefined ? '' : `:${found.port}`}`);
  const at = host ? ` ${host}` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused${at ? ` by${at}` : ''} (ECONNREFUSED): nothing is listening there`;
    case 'ENOTFOUND':
      return `DNS lookup failed: no such host${at} (ENOTFOUND)`;
    case 'EAI_AGAIN':
      return `DNS lookup failed${at}, temporarily (EAI_AGAIN)`;
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `the connection timed out${at} (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host${at} (${code})`;
    default:
      break;
  }
  const message = found?.message ?? messages(err);
  if (code !== undefined && isTlsCode(code, message)) {
    // OpenSSL's "…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…" says it in its last words.
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
    return `TLS error: ${reason.trim()} (${code})`;
  }
  return code === undefined ? message : `${message} (${code})`;
}

interface CodedError {
  code?: string;
  message?: string;
  hostname?: string;
  address?: string;
  port?: number;
}

function findCoded(err: unknown, depth = 0): CodedError | undefined {
  if (err === null || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as CodedError & { cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && !e.code.startsWith('ERR_INVALID')) {
    // An AggregateError carries the code of its parts but not their address.
    return Array.isArray(e.errors) && e.errors.length > 0 ? { ...(findCoded(e.errors[0], depth + 1) ?? {}), code: e.code } : e;
  }
  return findCoded(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? findCoded(e.errors[0], depth + 1) : undefined);
}

/** `fetch failed: bad port`: the messages of an error and its causes, when none has a code. */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(': ');
}

function isTlsCode(code: string, message: string): boolean {
  return /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/.test(code) || (code === 'EPROTO' && /SSL|TLS/i.test(message));
}
