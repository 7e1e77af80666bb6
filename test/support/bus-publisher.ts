import { randomUUID } from 'node:crypto';
import type { Bus } from '../../services/engine/bus.js';
import { isRelayError } from '../../services/protocol/errors.js';

/**
 * A producer on a bus directly (no HTTP): one event at a time at about
 * `perSecond`, each retried with its own Idempotency-Key until the bus
 * resolves it, as PROTOCOL.md asks producers to do after a 503. Records
 * what the engine tests check: every acknowledged id in order, and how many
 * attempts were refused `unavailable`.
 */
export class BusPublisher {
  readonly acknowledged: string[] = [];
  unavailable = 0;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    readonly channel: string,
    private readonly perSecond = 50,
  ) {}

  start(): this {
    this.running = this.loop();
    return this;
  }

  /** Stops after the event in flight is acknowledged. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const interval = 1000 / this.perSecond;
    for (let i = 0; !this.stopped; i++) {
      const key = randomUUID();
      for (;;) {
        try {
          const [result] = await this.bus.publish([{ channel: this.channel, data: JSON.stringify({ i }), ts: Date.now(), idempotencyKey: key }]);
          if (!this.acknowledged.includes(result!.id)) this.acknowledged.push(result!.id);
          break;
        } catch (err) {
          if (!isRelayError(err) || err.code !== 'unavailable') throw err;
          this.unavailable++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}
