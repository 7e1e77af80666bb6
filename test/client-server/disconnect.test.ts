import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CloseCode } from '../../services/protocol/close-codes.js';
import { BUS_DEPLOYMENTS, DEPLOYMENTS, startDeployment, type Deployment } from '../support/client-deployment.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

/** PROTOCOL.md v1.1 `POST /v1/users/{user}/disconnect`, as the client-servers carry it out (Control). */

describe.each(BUS_DEPLOYMENTS)('operator disconnect ($name)', (kind) => {
  let deployment: Deployment;
  const sockets: TestSocket[] = [];
  const streams: TestEventStream[] = [];
  beforeEach(async () => {
    deployment = await startDeployment(kind, 2);
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    streams.splice(0).forEach((s) => s.close());
    await deployment.close();
  });

  const server = (i: number) => deployment.servers[i]!;
  async function connect(i: number, sub: string | undefined): Promise<TestSocket> {
    const socket = await TestSocket.open(server(i).wsUrl, { token: server(i).token(['*'], { sub, presence: ['*'] }) });
    sockets.push(socket);
    expect(await socket.subscribe('room:1')).toMatchObject({ type: 'subscribed' });
    return socket;
  }
  async function stream(i: number, path: string, sub: string): Promise<TestEventStream> {
    const s = await TestEventStream.open(`${server(i).httpUrl}${path}`, { authorization: `Bearer ${server(i).token(['*'], { sub })}` });
    streams.push(s);
    return s;
  }
  const disconnect = (user: string) => server(0).engine.control.send({ type: 'disconnect', user });

  test('every WebSocket of the user, on every client-server, is closed with 4003; others stay', async () => {
    const mine = [await connect(0, 'u1'), await connect(1, 'u1'), await connect(1, 'u1')];
    const other = await connect(0, 'u2');
    const anonymous = await connect(1, undefined);
    await disconnect('u1');
    for (const socket of mine) expect(await socket.waitClosed()).toBe(CloseCode.disconnected);
    const metrics = await (await fetch(`${server(1).httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/eventrelay_operator_disconnects_total\{transport="ws"[^}]*\} 2/);
    expect(mine[0]!.closeReason).toMatch(/operator/);
    for (const socket of [other, anonymous]) {
      socket.send({ type: 'ping' });
      expect(await socket.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
      expect(socket.closeCode).toBeUndefined();
    }
  });

  test('an SSE stream of the user gets event: disconnected with code 4003, then ends', async () => {
    const single = await stream(0, '/v1/sse/room:1', 'u1');
    const multi = await stream(1, '/v1/sse?channels=room:1,room:2', 'u1');
    const other = await stream(0, '/v1/sse/room:1', 'u2');
    await single.waitFor(1);
    await multi.waitFor(2);
    await other.waitFor(1);
    await disconnect('u1');
    for (const [s, before] of [[single, 1], [multi, 2]] as const) {
      const messages = await s.waitFor(before + 1);
      expect(messages[before]).toEqual({ event: 'disconnected', data: '{"type":"disconnected","code":4003}' });
      await expect.poll(() => s.ended).toBe(true);
    }
    expect(other.ended).toBe(false);
  });

  // Where presence is built (DEPLOYMENTS); shown as skipped elsewhere.
  test.runIf(DEPLOYMENTS.includes(kind))('a disconnect is a clean leave of presence, and is counted by transport', async () => {
    const watcher = await TestSocket.open(server(0).wsUrl, { token: server(0).token(['*'], { sub: 'w', presence: ['*'] }) });
    sockets.push(watcher);
    watcher.send({ type: 'subscribe', channel: 'room:p', presence: true });
    await watcher.next((m) => m.type === 'subscribed');
    const leaving = await TestSocket.open(server(1).wsUrl, { token: server(1).token(['*'], { sub: 'u1', presence: ['*'] }) });
    sockets.push(leaving);
    leaving.send({ type: 'subscribe', channel: 'room:p', presence: true });
    await watcher.next((m) => m.type === 'join' && m.user === 'u1');
    await disconnect('u1');
    expect(await watcher.next((m) => m.type === 'leave')).toEqual({ type: 'leave', channel: 'room:p', user: 'u1' });
    const metrics = await (await fetch(`${server(1).httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/eventrelay_operator_disconnects_total\{transport="ws"[^}]*\} 1/);
  });
});
