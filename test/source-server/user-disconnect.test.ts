import { describe, expect, onTestFinished, test } from 'vitest';
import type { ControlCommand } from '../../services/engine/control.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { AUTH, errorCode, useSource, type TestSource } from '../support/source-app.js';

const disconnect = (source: TestSource, user: string) => source.app.inject({ method: 'POST', url: `/v1/users/${user}/disconnect`, headers: AUTH });

/** A replica on the source's broker listening for operator commands, as every client-server does. */
async function listeningClientServer(source: TestSource): Promise<ControlCommand[]> {
  const replica = createMemoryEngine({ config: source.config, logger: source.logger, broker: source.engine.broker });
  onTestFinished(() => replica.close());
  const heard: ControlCommand[] = [];
  await replica.control.listen((command) => heard.push(command));
  return heard;
}

describe('POST /v1/users/{user}/disconnect', () => {
  test('answers {"user"} once every listening client-server has the command', async () => {
    const source = useSource();
    const [a, b] = [await listeningClientServer(source), await listeningClientServer(source)];
    const response = await disconnect(source, 'u1');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: 'u1' });
    expect(a).toEqual([{ type: 'disconnect', user: 'u1' }]);
    expect(b).toEqual([{ type: 'disconnect', user: 'u1' }]);
  });

  test('a user id with reserved characters travels percent-encoded and arrives decoded', async () => {
    const source = useSource();
    const heard = await listeningClientServer(source);
    const user = 'auth0|user/42 é';
    const response = await disconnect(source, encodeURIComponent(user));
    expect(response.json()).toEqual({ user });
    expect(heard).toEqual([{ type: 'disconnect', user }]);
  });

  test('is logged at info with the user, for the audit trail', async () => {
    const source = useSource();
    await disconnect(source, 'u9');
    expect(source.logs).toContainEqual(expect.objectContaining({ level: 30, msg: 'disconnect requested', user: 'u9' }));
  });

  test('an empty user is 400 invalid_request and sends nothing', async () => {
    const source = useSource();
    const heard = await listeningClientServer(source);
    const response = await disconnect(source, '');
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
    expect(heard).toEqual([]);
  });

  test('GET is not the method: 404 not_found', async () => {
    const { app } = useSource();
    expect(errorCode(await app.inject({ method: 'GET', url: '/v1/users/u1/disconnect', headers: AUTH }))).toBe('not_found');
  });

  test('while draining it is 503 unavailable with Retry-After, like a publish, and sends nothing', async () => {
    const source = useSource();
    const heard = await listeningClientServer(source);
    source.lifecycle.startDraining();
    const response = await disconnect(source, 'u1');
    expect(response.statusCode).toBe(503);
    expect(errorCode(response)).toBe('unavailable');
    expect(response.headers['retry-after']).toBeDefined();
    expect(heard).toEqual([]);
  });
});
