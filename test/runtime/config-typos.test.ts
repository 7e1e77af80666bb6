import { describe, expect, test } from 'vitest';
import { ConfigError, configEnvNames, loadConfig } from '../../services/runtime/config/load.js';
import { editDistance, likelyMeant, misspeltNames } from '../../services/runtime/config/typos.js';

/**
 * A variable one or two edits from one of our names stops the start with
 * "did you mean", while the many unrelated variables of real environments
 * (this machine's, a Kubernetes pod's, a Docker container's, npm's) never do.
 */

const known = configEnvNames();

/** What a pod sees besides our variables: service links of the Services in its namespace, Docker's and Node's image variables, the downward API. */
const KUBERNETES_POD_ENV: Record<string, string> = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBERNETES_SERVICE_PORT_HTTPS: '443',
  KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
  KUBERNETES_PORT_443_TCP_PORT: '443',
  KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
  SOURCE_SERVER_SERVICE_HOST: '10.96.12.7',
  SOURCE_SERVER_SERVICE_PORT: '8080',
  SOURCE_SERVER_SERVICE_PORT_HTTP: '8080',
  SOURCE_SERVER_PORT: 'tcp://10.96.12.7:8080',
  SOURCE_SERVER_PORT_8080_TCP: 'tcp://10.96.12.7:8080',
  SOURCE_SERVER_PORT_8080_TCP_PROTO: 'tcp',
  SOURCE_SERVER_PORT_8080_TCP_PORT: '8080',
  SOURCE_SERVER_PORT_8080_TCP_ADDR: '10.96.12.7',
  CLIENT_SERVER_SERVICE_HOST: '10.96.12.8',
  CLIENT_SERVER_SERVICE_PORT: '8081',
  CLIENT_SERVER_SERVICE_PORT_HTTP: '8081',
  CLIENT_SERVER_PORT: 'tcp://10.96.12.8:8081',
  CLIENT_SERVER_PORT_8081_TCP: 'tcp://10.96.12.8:8081',
  CLIENT_SERVER_PORT_8081_TCP_ADDR: '10.96.12.8',
  REDIS_SERVICE_HOST: '10.96.3.3',
  REDIS_SERVICE_PORT: '6379',
  REDIS_SERVICE_PORT_REDIS: '6379',
  REDIS_PORT: 'tcp://10.96.3.3:6379',
  REDIS_PORT_6379_TCP: 'tcp://10.96.3.3:6379',
  REDIS_PORT_6379_TCP_PROTO: 'tcp',
  REDIS_PORT_6379_TCP_PORT: '6379',
  REDIS_PORT_6379_TCP_ADDR: '10.96.3.3',
  // A Service named "clients": CLIENTS_PORT is one edit from CLIENT_PORT, a link only by its value.
  CLIENTS_SERVICE_HOST: '10.96.5.5',
  CLIENTS_SERVICE_PORT: '80',
  CLIENTS_PORT: 'tcp://10.96.5.5:80',
  CLIENTS_PORT_80_TCP: 'tcp://10.96.5.5:80',
  POD_NAME: 'client-server-7d9f8b6c4-x2lqp',
  POD_NAMESPACE: 'eventrelay',
  POD_IP: '10.244.1.17',
  NODE_NAME: 'worker-2',
  HOST_IP: '192.168.49.2',
};

const DOCKER_AND_NODE_ENV: Record<string, string> = {
  HOSTNAME: '3f2b1c0d9e8a',
  HOME: '/home/node',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  TERM: 'xterm',
  NODE_VERSION: '24.11.0',
  YARN_VERSION: '1.22.22',
  NODE_OPTIONS: '--max-old-space-size=384',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/private-ca.crt',
  NODE_TLS_REJECT_UNAUTHORIZED: '1',
  UV_THREADPOOL_SIZE: '8',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TZ: 'UTC',
  HTTP_PROXY: 'http://proxy:3128',
  HTTPS_PROXY: 'http://proxy:3128',
  NO_PROXY: 'localhost,.svc',
  http_proxy: 'http://proxy:3128',
  no_proxy: 'localhost',
  SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
  npm_config_cache: '/home/node/.npm',
  npm_lifecycle_event: 'start',
  npm_package_name: 'eventrelay',
  INIT_CWD: '/app',
  CI: 'true',
  GITHUB_ACTIONS: 'true',
  RUNNER_OS: 'Linux',
  OTEL_SERVICE_NAME: 'client-server',
  REDIS_HOST: 'redis',
  REDIS_PASSWORD: 'not-ours',
  REDIS_DB: '0',
};

describe('a misspelt variable', () => {
  test('HISTROY_SIZE=5 stops the start with "did you mean HISTORY_SIZE?"', () => {
    expect(() => loadConfig({ HISTROY_SIZE: '5' })).toThrow(ConfigError);
    expect(() => loadConfig({ HISTROY_SIZE: '5' })).toThrow(/HISTROY_SIZE is not a variable eventrelay reads: did you mean HISTORY_SIZE\?/);
  });

  test.each([
    ['REDIS_ULR', 'REDIS_URL'],
    ['REDIS_URI', 'REDIS_URL'],
    ['PUBLISHER_KEY', 'PUBLISHER_KEYS'],
    ['SUBSCRIBER_JWT_SECERT', 'SUBSCRIBER_JWT_SECRET'],
    ['LOG_LEVLE', 'LOG_LEVEL'],
    ['NODE_EVN', 'NODE_ENV'],
    ['DRAIN_WINDOW_SECOND', 'DRAIN_WINDOW_SECONDS'],
    ['MAX_EVENTS_BYTES', 'MAX_EVENT_BYTES'],
    ['ALLOWED_ORIGIN', 'ALLOWED_ORIGINS'],
    ['CLIENT_PROT', 'CLIENT_PORT'],
    ['HISTROY_SIEZ', 'HISTORY_SIZE'],
    ['history_size', 'HISTORY_SIZE'],
  ])('%s is taken for %s', (typo, meant) => {
    expect(likelyMeant(typo, '1', known)).toBe(meant);
  });

  test('is reported together with every other bad variable', () => {
    try {
      loadConfig({ HISTROY_SIZE: '5', MAX_EVENT_BYTES: 'lots' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([expect.stringContaining('did you mean HISTORY_SIZE?'), expect.stringContaining('MAX_EVENT_BYTES')]);
    }
  });

  test('only names of our shape with few enough edits count: short names get one edit, HOST none', () => {
    expect(likelyMeant('NODE_EMV', '1', known)).toBe('NODE_ENV');
    expect(likelyMeant('NODE_EM', '1', known)).toBeUndefined();
    expect(likelyMeant('HOSTS', '1', known)).toBeUndefined();
    expect(likelyMeant('HOST_', '1', known)).toBeUndefined();
    expect(likelyMeant('HISTORYSIZE', '1', known)).toBeUndefined();
  });
});

describe('real environments start cleanly', () => {
  test('the environment this test runs in (this machine, or CI)', () => {
    expect(misspeltNames(process.env, known)).toEqual([]);
  });

  test('a Kubernetes pod with service links for every Service of the namespace (enableServiceLinks left on)', () => {
    expect(misspeltNames(KUBERNETES_POD_ENV, known)).toEqual([]);
    expect(() => loadConfig({ ...KUBERNETES_POD_ENV, ...DOCKER_AND_NODE_ENV })).not.toThrow();
  });

  test('a Docker container of the Node image, run by npm, with proxies, CI and other programs\' variables', () => {
    expect(misspeltNames(DOCKER_AND_NODE_ENV, known)).toEqual([]);
  });

  test('<SERVICE>_PORT is a service link by its tcp:// value; with a port number it is a typo', () => {
    expect(likelyMeant('CLIENTS_PORT', 'tcp://10.96.5.5:80', known)).toBeUndefined();
    expect(likelyMeant('CLIENTS_PORT', '8081', known)).toBe('CLIENT_PORT');
  });
});

describe('the edit distance', () => {
  test('counts a transposition as one edit', () => {
    expect(editDistance('HISTROY_SIZE', 'HISTORY_SIZE')).toBe(1);
    expect(editDistance('HOME', 'HOST')).toBe(2);
    expect(editDistance('', 'AB')).toBe(2);
    expect(editDistance('SAME', 'SAME')).toBe(0);
  });
});
