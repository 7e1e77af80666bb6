import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { Control, type ControlCommand } from '../../services/engine/control.js';
import { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { loadConfig } from '../../services/runtime/config/load.js';

const logger = pino({ level: 'silent' });

describe('Control', () => {
  test('several listeners of one process share one subscription; each hears every command until it stops listening', async () => {
    const bus = new MemoryBus({ config: loadConfig({}), logger });
    const control = new Control(bus, logger);
    const native: ControlCommand[] = [];
    const pusher: ControlCommand[] = [];
    await control.listen((c) => native.push(c));
    const unlisten = await control.listen((c) => pusher.push(c));
    await control.send({ type: 'disconnect', user: 'u1' });
    await control.send({ type: 'pusher-terminate', app: '1', user: 'u2' });
    expect(native).toEqual([
      { type: 'disconnect', user: 'u1' },
      { type: 'pusher-terminate', app: '1', user: 'u2' },
    ]);
    expect(pusher).toEqual(native);
    await unlisten();
    await control.send({ type: 'disconnect', user: 'u3' });
    expect(native).toHaveLength(3);
    expect(pusher).toHaveLength(2);
    await control.stop();
    await bus.close();
  });
});
