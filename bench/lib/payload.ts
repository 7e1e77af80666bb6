// The events' `data`, shared by the publisher (which sends it) and the
// subscribers (which, with `verify`, check every delivery against it byte for
// byte). Every payload starts with `{"s":<seq>,"t":<send time ms>,` so the
// generator can read sequence and latency without parsing the JSON.

export type PayloadKind = 'padding' | 'order';

/** Bytes of `{"s":1234567,"t":1732450000000.123,`: what the body of an order leaves room for. */
const HEAD_BYTES = 36;

/** `data` of the event with sequence `s` sent at `t`, about `bytes` long. */
export function eventData(kind: PayloadKind, s: number, t: number, bytes: number): string {
  if (kind === 'padding') return `{"s":${s},"t":${t},"p":"${'x'.repeat(Math.max(0, bytes - HEAD_BYTES - 8))}"}`;
  return `{"s":${s},"t":${t},${orderBody(s, bytes).slice(1)}`;
}

const bodies = new Map<number, string>();
/** Bodies of the most recent sequence numbers, so that verifying 10,000 deliveries/s does not rebuild each one. */
const CACHED_BODIES = 4096;

/**
 * A realistic order-update object (repeated keys, ISO dates, decimal strings:
 * what real feeds send and what deflate is good at), deterministic in `s` so
 * that the receiver can rebuild it, padded with a memo to `bytes`.
 */
export function orderBody(s: number, bytes: number): string {
  const cached = bodies.get(s);
  if (cached !== undefined) return cached;
  const random = mulberry32(s);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const at = (offset: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, 0) + s * 37 + offset).toISOString();
  const price = 100 + random() * 50_000;
  const quantity = random() * 5;
  const order = {
    type: 'order.updated',
    order: {
      id: `ord_${String(s).padStart(10, '0')}`,
      clientOrderId: `cli-${Math.floor(random() * 2 ** 32).toString(36)}`,
      account: `acc_${String(Math.floor(random() * 10_000)).padStart(5, '0')}`,
      symbol: pick(['BTC-USD', 'ETH-USD', 'SOL-USD', 'AAPL', 'MSFT', 'EUR-USD']),
      side: pick(['buy', 'sell']),
      type: 'limit',
      timeInForce: pick(['GTC', 'IOC', 'FOK']),
      status: pick(['new', 'partially_filled', 'filled']),
      price: price.toFixed(2),
      quantity: quantity.toFixed(4),
      filledQuantity: (quantity * random()).toFixed(4),
      currency: 'USD',
      venue: pick(['XNAS', 'XNYS', 'BATS', 'ARCX']),
      createdAt: at(0),
      updatedAt: at(1500),
    },
    fills: [] as Record<string, string>[],
    memo: '',
  };
  const target = bytes - HEAD_BYTES;
  for (let i = 0; JSON.stringify(order).length + 190 < target; i++) {
    order.fills.push({
      id: `fill_${s}_${i}`,
      price: (price * (1 + (random() - 0.5) / 1000)).toFixed(2),
      quantity: (quantity * random()).toFixed(4),
      fee: (random() * 3).toFixed(4),
      feeCurrency: 'USD',
      liquidity: pick(['maker', 'taker']),
      executedAt: at(100 * (i + 1)),
    });
  }
  order.memo = 'routed via smart order router; '.repeat(8).slice(0, Math.max(0, target - JSON.stringify(order).length));
  const body = JSON.stringify(order);
  if (bodies.size >= CACHED_BODIES) bodies.delete(bodies.keys().next().value!);
  bodies.set(s, body);
  return body;
}

/** A small seeded PRNG (public-domain mulberry32): the same `s` gives the same order everywhere. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
