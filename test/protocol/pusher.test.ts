import fc from 'fast-check';
import PusherServer from 'pusher';
import { describe, expect, test } from 'vitest';
import { CHANNEL_PATTERN } from '../../services/protocol/channel.js';
import { channelType, fromNativeChannel, isValidPusherChannel, toNativeChannel } from '../../services/protocol/pusher/channel-name.js';
import { parseClientFrame } from '../../services/protocol/pusher/client-frames.js';
import { protocolRefusal } from '../../services/protocol/pusher/codes.js';
import { decodeEnvelope, encodeEnvelope } from '../../services/protocol/pusher/envelope.js';
import { parseChannelData, pusherInfoJson, toNativeInfo } from '../../services/protocol/pusher/presence-member.js';
import { apiStringToSign, channelAuthText, hmacHex, md5Hex, signAuth, userAuthText, verifyAuth } from '../../services/protocol/pusher/signature.js';
import { pusherWebhookBody, pusherWebhookEvent, pusherWebhookHeaders } from '../../services/protocol/pusher/webhooks.js';

describe('Pusher channel names on the bus', () => {
  test("Laravel's names stay readable and the punctuation is escaped with uppercase hex", () => {
    expect(toNativeChannel('1', 'private-App.Models.User.1')).toBe('pusher:1:private-App.Models.User.1');
    expect(toNativeChannel('1', 'presence-room@eu')).toBe('pusher:1:presence-room:40eu');
    expect(toNativeChannel('1', '#server-to-user-u1')).toBe('pusher:1::23server-to-user-u1');
    expect(toNativeChannel('a-b', 'x=1,y;z')).toBe('pusher:a-b:x:3D1:2Cy:3Bz');
  });

  test('any name round-trips, and its native form uses only characters native names allow', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'binary' }), (name) => {
        const native = toNativeChannel('app_1', name);
        expect(/^[A-Za-z0-9_\-.:]+$/.test(native)).toBe(true);
        expect(fromNativeChannel(native)).toEqual({ appId: 'app_1', name });
      }),
      { numRuns: 2000 },
    );
  });

  test('a short valid Pusher name is a valid native channel too (the native API can address it)', () => {
    const name = 'presence-' + 'a'.repeat(100);
    expect(CHANNEL_PATTERN.test(toNativeChannel('1', name))).toBe(true);
  });

  test('decoding refuses every second spelling: lowercase hex, a kept character escaped, a stray colon, not UTF-8', () => {
    expect(fromNativeChannel('pusher:1:room:40eu')).toEqual({ appId: '1', name: 'room@eu' });
    expect(fromNativeChannel('pusher:1:a:3Db')).toEqual({ appId: '1', name: 'a=b' });
    expect(fromNativeChannel('pusher:1:a:3db')).toBeUndefined();
    expect(fromNativeChannel('pusher:1:room:61')).toBeUndefined();
    expect(fromNativeChannel('pusher:1:room:')).toBeUndefined();
    expect(fromNativeChannel('pusher:1:room:FF')).toBeUndefined();
    expect(fromNativeChannel('news')).toBeUndefined();
    expect(fromNativeChannel('pusher:1:')).toBeUndefined();
  });

  test('kinds are decided by anchored prefixes; names follow Pusher\'s rules', () => {
    expect(channelType('private-encrypted-cache-x')).toEqual({ kind: 'encrypted', cache: true });
    expect(channelType('presence-cache-x')).toEqual({ kind: 'presence', cache: true });
    expect(channelType('my-private-x')).toEqual({ kind: 'public', cache: false });
    expect(channelType('cache-x')).toEqual({ kind: 'public', cache: true });
    expect(isValidPusherChannel('a=b@c,d.e;f-_', 164)).toBe(true);
    expect(isValidPusherChannel('a b', 164)).toBe(false);
    expect(isValidPusherChannel('#other', 164)).toBe(false);
    expect(isValidPusherChannel('x'.repeat(165), 164)).toBe(false);
  });
});

describe('Pusher signatures (the worked examples of pusher/docs)', () => {
  const app = { key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' };

  test('private channel, user signin and presence auth strings', () => {
    expect(hmacHex(app.secret, channelAuthText('1234.1234', 'private-foobar'))).toBe('58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4');
    expect(hmacHex(app.secret, userAuthText('1234.1234', '{"id":"12345"}'))).toBe('4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba');
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}';
    expect(hmacHex(app.secret, channelAuthText('1234.1234', 'presence-foobar', channelData))).toBe('31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80');
  });

  test('an auth verifies only with this app\'s key prefix, this socket and this channel', () => {
    const auth = signAuth(app.key, app.secret, channelAuthText('1.2', 'private-x'));
    expect(verifyAuth(app, auth, channelAuthText('1.2', 'private-x'))).toBe(true);
    expect(verifyAuth(app, auth, channelAuthText('1.3', 'private-x'))).toBe(false);
    expect(verifyAuth(app, auth.replace(app.key, 'other'), channelAuthText('1.2', 'private-x'))).toBe(false);
    expect(verifyAuth(app, undefined, channelAuthText('1.2', 'private-x'))).toBe(false);
  });

  test('the HTTP API string to sign of the docs example', () => {
    const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
    expect(md5Hex(body)).toBe('ec365a775a4cd0599faeb73354201b6f');
    const toSign = apiStringToSign('post', '/apps/3/events', [
      ['auth_version', '1.0'],
      ['auth_key', app.key],
      ['body_md5', md5Hex(body)],
      ['auth_timestamp', '1353088179'],
      ['auth_signature', 'ignored'],
    ]);
    expect(toSign).toBe('POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f');
    expect(hmacHex(app.secret, toSign)).toBe('da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c');
  });
});

describe('the stored envelope', () => {
  test('a Pusher event round-trips with its exclusion and its client sender', () => {
    const envelope = { event: 'e', data: '{"n":12345678901234567890}', exclude: '1.2', client: { socketId: '3.4', userId: 'u' } };
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  test('native data: {event, data} is that event with data digit for digit; anything else is "message" with the JSON text', () => {
    expect(decodeEnvelope('{"event":"order","data":{"id":12345678901234567890}}')).toEqual({ event: 'order', data: '{"id":12345678901234567890}' });
    expect(decodeEnvelope('{"temperature":21.5}')).toEqual({ event: 'message', data: '{"temperature":21.5}' });
    expect(decodeEnvelope('[1,2]')).toEqual({ event: 'message', data: '[1,2]' });
    expect(decodeEnvelope('{"event":"pusher_internal:member_added","data":"{}"}')).toBeUndefined();
  });
});

describe('client frames', () => {
  test('subscribe data may be an object or a JSON string; client event data keeps its digits', () => {
    expect(parseClientFrame('{"event":"pusher:subscribe","data":"{\\"channel\\":\\"a\\",\\"auth\\":\\"\\"}"}')).toEqual({ type: 'subscribe', channel: 'a', auth: '', channelData: undefined });
    expect(parseClientFrame('{"event":"client-x","channel":"private-a","data":{"n":12345678901234567890}}')).toEqual({
      type: 'client-event',
      event: 'client-x',
      channel: 'private-a',
      data: '{"n":12345678901234567890}',
    });
    expect(parseClientFrame('{"event":"client-x","channel":"private-a","data":"text"}')).toMatchObject({ data: 'text' });
    expect(() => parseClientFrame('[]')).toThrow();
    expect(() => parseClientFrame('{"event":"pusher:subscribe","data":{}}')).toThrow();
  });

  test('the protocol version: missing 4008, not a number 4006, unsupported 4007, 5 to 7 accepted', () => {
    expect(protocolRefusal(undefined)?.code).toBe(4008);
    expect(protocolRefusal('x')?.code).toBe(4006);
    expect(protocolRefusal('8')?.code).toBe(4007);
    expect(protocolRefusal('7')).toBeUndefined();
  });
});

describe('presence members', () => {
  test('integer user ids become strings; user_info that is not an object survives the engine unchanged', () => {
    const parsed = parseChannelData('{"user_id":1,"user_info":true}', 128);
    expect(parsed).toMatchObject({ member: { userId: '1' } });
    if (!('member' in parsed)) throw new Error('unreachable');
    expect(pusherInfoJson(parsed.member.info)).toBe('true');
    expect(pusherInfoJson(toNativeInfo({ name: 'A' }))).toBe('{"name":"A"}');
    expect(parseChannelData('{"user_info":{}}', 128)).toHaveProperty('problem');
    expect(parseChannelData('{"user_id":"x".repeat(2)}', 128)).toHaveProperty('problem');
  });
});

describe("webhooks in Pusher's format pass pusher-http-node's own isValid()", () => {
  const app = { id: '1', key: 'app-key-1', secret: 'app-secret-1' };
  const sdk = new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1' });
  const clientData = JSON.parse(encodeEnvelope({ event: 'client-typing', data: '{"t":1}', client: { socketId: '1.2', userId: 'ann' } })) as unknown;
  const transitions: [string, unknown][] = [
    [`{"kind":"channel.occupied","channel":"${toNativeChannel('1', 'news')}","time":1}`, { name: 'channel_occupied', channel: 'news' }],
    [`{"kind":"channel.vacated","channel":"${toNativeChannel('1', 'room@eu')}","time":1}`, { name: 'channel_vacated', channel: 'room@eu' }],
    [`{"kind":"presence.join","channel":"${toNativeChannel('1', 'presence-r')}","time":1,"user":"7"}`, { name: 'member_added', channel: 'presence-r', user_id: '7' }],
    [`{"kind":"presence.leave","channel":"${toNativeChannel('1', 'presence-r')}","time":1,"user":"7"}`, { name: 'member_removed', channel: 'presence-r', user_id: '7' }],
    [
      `{"kind":"client.publish","channel":"${toNativeChannel('1', 'presence-r')}","time":1,"id":"1-0","publisher":"ann","data":${JSON.stringify(clientData)}}`,
      { name: 'client_event', channel: 'presence-r', event: 'client-typing', data: '{"t":1}', socket_id: '1.2', user_id: 'ann' },
    ],
    [`{"kind":"cache.miss","channel":"${toNativeChannel('1', 'cache-x')}","time":1}`, { name: 'cache_miss', channel: 'cache-x' }],
  ];

  test.each(transitions)('%s', (transition, expected) => {
    const converted = pusherWebhookEvent(transition);
    expect(converted?.appId).toBe('1');
    const body = pusherWebhookBody(1700000000000, [converted!.event]);
    const webhook = sdk.webhook({ headers: pusherWebhookHeaders(app, body), rawBody: body });
    expect(webhook.isValid()).toBe(true);
    expect(webhook.getEvents()).toEqual([expected]);
    expect(webhook.getTime().getTime()).toBe(1700000000000);
    // Signed with another secret it is not valid.
    expect(sdk.webhook({ headers: pusherWebhookHeaders({ ...app, secret: 'wrong' }, body), rawBody: body }).isValid()).toBe(false);
  });

  test('native channels and native client publishes are no Pusher webhooks', () => {
    expect(pusherWebhookEvent('{"kind":"channel.occupied","channel":"news","time":1}')).toBeUndefined();
    expect(pusherWebhookEvent(`{"kind":"client.publish","channel":"${toNativeChannel('1', 'private-x')}","time":1,"id":"1-0","publisher":"u","data":{"a":1}}`)).toBeUndefined();
  });
});
