import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';
import { DEFAULT_PUSHER_LIMITS } from '../../services/runtime/config/pusher-apps.js';

const files = (content: unknown) => ({ readFile: () => (typeof content === 'string' ? content : JSON.stringify(content)) });
const problems = (env: Record<string, string>, options = {}) => {
  try {
    loadConfig(env, options);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('Pusher apps configuration', () => {
  test('no PUSHER_* variable: no app, and the Pusher endpoints stay off', () => {
    expect(loadConfig({}).pusherApps).toEqual([]);
  });

  test('PUSHER_APP_ID, _KEY and _SECRET make one app with Pusher\'s default limits, client events off', () => {
    const [app, ...rest] = loadConfig({ PUSHER_APP_ID: '123', PUSHER_APP_KEY: 'k', PUSHER_APP_SECRET: 's', PUSHER_WEBHOOK_URLS: 'http://h/x' }).pusherApps;
    expect(rest).toEqual([]);
    expect(app).toEqual({ id: '123', key: 'k', secret: 's', enabled: true, clientEvents: false, webhooks: [{ url: 'http://h/x' }], limits: DEFAULT_PUSHER_LIMITS });
    expect(loadConfig({ PUSHER_APP_ID: '1', PUSHER_APP_KEY: 'k', PUSHER_APP_SECRET: 's', PUSHER_CLIENT_EVENTS: 'true' }).pusherApps[0]!.clientEvents).toBe(true);
  });

  test('a partial single app, or both forms at once, is refused naming the variables', () => {
    expect(problems({ PUSHER_APP_ID: '1', PUSHER_APP_KEY: 'k' }).join()).toMatch(/PUSHER_APP_ID, PUSHER_APP_KEY and PUSHER_APP_SECRET/);
    expect(problems({ PUSHER_APP_ID: '1', PUSHER_APP_KEY: 'k', PUSHER_APP_SECRET: 's', PUSHER_APPS_FILE: '/x' }, files({ apps: [] })).join()).toMatch(/both set/);
  });

  test('PUSHER_APPS_FILE: several apps with their own limits and webhooks; every problem reported at once', () => {
    const apps = loadConfig(
      { PUSHER_APPS_FILE: '/apps.json' },
      files({ apps: [{ id: 'a', key: 'ka', secret: 'sa', clientEvents: true, limits: { maxPresenceMembers: 50 } }, { id: 'b', key: 'kb', secret: 'sb', enabled: false, webhooks: [{ url: 'https://h', events: ['member_added'] }] }] }),
    ).pusherApps;
    expect(apps.map((a) => [a.id, a.enabled, a.clientEvents, a.limits.maxPresenceMembers])).toEqual([
      ['a', true, true, 50],
      ['b', false, false, 100],
    ]);
    expect(apps[1]!.webhooks).toEqual([{ url: 'https://h', events: ['member_added'] }]);
    const found = problems(
      { PUSHER_APPS_FILE: '/apps.json' },
      files({ apps: [{ id: 'a:b', key: 'k', secret: 's' }, { id: 'c', key: 'k', secret: '' }, { id: 'd', key: 'k2', secret: 's', limits: { maxPresenceMembers: 0, nope: 1 }, webhooks: [{ url: 'ftp://x' }] }] }),
    );
    expect(found.join('\n')).toMatch(/apps\[0\]: id/);
    expect(found.join('\n')).toMatch(/apps\[1\]: secret/);
    expect(found.join('\n')).toMatch(/limits.maxPresenceMembers/);
    expect(found.join('\n')).toMatch(/limits.nope is not a limit/);
    expect(found.join('\n')).toMatch(/webhooks\[0\].url/);
    expect(problems({ PUSHER_APPS_FILE: '/apps.json' }, files({ apps: [{ id: 'a', key: 'k', secret: 's' }, { id: 'b', key: 'k', secret: 's' }] })).join()).toMatch(/two apps have the key/);
    expect(problems({ PUSHER_APPS_FILE: '/apps.json' }, files('not json')).join()).toMatch(/cannot read/);
  });
});
