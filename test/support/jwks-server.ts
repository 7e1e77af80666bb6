import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type PublicKeyAlg = 'RS256' | 'ES256' | 'EdDSA';

/** A key pair of an identity provider in a test: signs tokens, publishes its public half. */
export interface SigningKey {
  alg: PublicKeyAlg;
  kid: string;
  privateKey: CryptoKey;
  /** The public key as a JWKS member (with `kid`, without `alg`, as most providers publish it). */
  jwk: JWK;
  /** The public key as an SPKI PEM (SUBSCRIBER_JWT_PUBLIC_KEY_FILE). */
  pem: string;
}

export async function signingKey(alg: PublicKeyAlg, kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid }, pem: await exportSPKI(publicKey) };
}

/** A token signed by `key`, its header naming `key.kid` unless `header.kid` says otherwise (`null`: no kid). */
export function signWith(key: SigningKey, payload: JWTPayload, header: { kid?: string | null; alg?: string } = {}): Promise<string> {
  const kid = header.kid === null ? undefined : (header.kid ?? key.kid);
  return new SignJWT(payload).setProtectedHeader({ alg: header.alg ?? key.alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) }).sign(key.privateKey);
}

/** A real HTTP server answering GET /jwks with whatever `keys` holds at that moment; counts the requests. */
export interface JwksServer {
  readonly url: string;
  /** Requests of the JWKS so far. */
  readonly requests: number;
  /** What the next request is answered; change it to rotate keys. */
  keys: JWK[];
  /** The status of the next answers (500: the provider is down). */
  status: number;
  /** Resolves once `requests` has reached `count`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let requests = 0;
  const waiters: (() => void)[] = [];
  const state = { keys, status: 200 };
  const server: Server = createServer((req, res) => {
    requests++;
    for (const wake of waiters.splice(0)) wake();
    if (req.url !== '/jwks') return res.writeHead(404).end();
    res.writeHead(state.status, { 'content-type': 'application/jwk-set+json' });
    res.end(state.status === 200 ? JSON.stringify({ keys: state.keys }) : '{"error":"down"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    get requests() {
      return requests;
    },
    get keys() {
      return state.keys;
    },
    set keys(next) {
      state.keys = next;
    },
    get status() {
      return state.status;
    },
    set status(next) {
      state.status = next;
    },
    async waitForRequests(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (requests < count) {
        if (Date.now() > deadline) throw new Error(`the JWKS was requested ${requests} times, not ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100).unref();
        });
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
