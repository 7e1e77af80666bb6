import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook event as the receiver parsed it. */
export type WebhookEvent = { kind: string; channel: string; time: number; user?: string; id?: string; publisher?: string; data?: unknown };

/** One POST the receiver got, whatever it answered. */
export interface Received {
  /** The raw body, as signed. */
  raw: string;
  id: string;
  time: number;
  events: WebhookEvent[];
  contentType: string | undefined;
  /** `t` of the Eventrelay-Signature header (unix seconds). */
  t: number;
  /** Whether `v1` is the HMAC-SHA256 of "<t>.<raw>" with the secret (checked here, independently of the services' code). */
  signed: boolean;
  /** When it arrived (ms). */
  at: number;
  /** What the receiver answered. */
  status: number;
  /** The n-th POST to this receiver, from 1. */
  n: number;
}

/** An answer: a status, or `hang` (never answer). */
export type Answer = number | 'hang';

export interface WebhookReceiver {
  readonly url: string;
  /** Every POST, in arrival order. */
  readonly received: Received[];
  /** The POSTs answered 2xx: what the receiver accepted. */
  accepted(): Received[];
  /** The accepted events, duplicates (same webhook id) dropped as the protocol tells receivers to. */
  events(): WebhookEvent[];
  /** Decides each answer (default 200); replaceable at any time. */
  answer: (request: Omit<Received, 'status'>) => Answer;
  close(): Promise<void>;
}

/** Verifies a signature header the way the docs tell receivers to. */
export function verifySignature(secret: string, raw: string, header: string | undefined): { t: number; ok: boolean } {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return { t: NaN, ok: false };
  const expected = createHmac('sha256', secret).update(`${match[1]}.${raw}`).digest();
  return { t: Number(match[1]), ok: timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')) };
}

/** A real HTTP server on a free port that receives webhooks and checks their signatures. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const hanging = new Set<() => void>();
  let n = 0;
  const receiver: WebhookReceiver = {
    url: '',
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    events() {
      const seen = new Set<string>();
      return receiver.accepted().flatMap((r) => (seen.has(r.id) ? [] : (seen.add(r.id), r.events)));
    },
    answer: () => 200,
    close: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const request = parse(raw, req.headers, secret, ++n);
      const answer = receiver.answer(request);
      if (answer === 'hang') {
        hanging.add(() => res.destroy());
        received.push({ ...request, status: 0 });
        return;
      }
      received.push({ ...request, status: answer });
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (receiver as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

function parse(raw: string, headers: IncomingHttpHeaders, secret: string, n: number): Omit<Received, 'status'> {
  const { t, ok } = verifySignature(secret, raw, headers['eventrelay-signature'] as string | undefined);
  const body = JSON.parse(raw) as { id: string; time: number; events: WebhookEvent[] };
  return { raw, id: body.id, time: body.time, events: body.events, contentType: headers['content-type'], t, signed: ok, at: Date.now(), n };
}
