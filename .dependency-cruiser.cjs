/**
 * The architecture, as rules `npm run lint` enforces (dependency-cruiser).
 * Layers of services/, arrows pointing down only:
 *   embedded, source-server, client-server   (apps; main.ts files compose them)
 *   engine                                   (everything that talks to the broker)
 *   runtime                                  (config, logger, metrics, lifecycle, HTTP plumbing, the runner)
 *   protocol                                 (the wire contract: names, ids, errors, messages)
 */
const layer = (name) => `^services/${name}/`;

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles hide which module is the lower layer.', from: {}, to: { circular: true } },
    {
      name: 'protocol-is-the-bottom',
      severity: 'error',
      comment: 'protocol/ is the wire contract: it depends on nothing of ours.',
      from: { path: layer('protocol') },
      to: { path: '^services/', pathNot: layer('protocol') },
    },
    {
      name: 'runtime-below-engine-and-apps',
      severity: 'error',
      comment: 'runtime/ (config, logger, runner) imports no engine and no app: every app plugs into it.',
      from: { path: layer('runtime') },
      to: { path: ['^services/engine/', '^services/source-server/', '^services/client-server/', '^services/embedded/'] },
    },
    {
      name: 'engine-below-apps',
      severity: 'error',
      comment: 'engine/ serves the apps; it never imports one.',
      from: { path: layer('engine') },
      to: { path: ['^services/source-server/', '^services/client-server/', '^services/embedded/'] },
    },
    {
      name: 'no-app-imports-another-app',
      severity: 'error',
      comment: 'The source-server and client-server run as separate images; only embedded/ composes both.',
      from: { path: '^services/(source-server|client-server)/' },
      to: { path: '^services/(source-server|client-server|embedded)/', pathNot: '^services/$1/' },
    },
    {
      name: 'ioredis-only-in-the-redis-engine',
      severity: 'error',
      comment: 'Apps never see ioredis: standalone, Sentinel and Cluster are siblings behind createEngine.',
      from: { path: '^services/', pathNot: '^services/engine/redis/' },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'brokers-only-through-create-engine',
      severity: 'error',
      comment: 'Apps take an Engine; which broker is behind it is decided in one place (engine/create-engine.ts).',
      from: { path: '^services/', pathNot: ['^services/engine/'] },
      to: { path: '^services/engine/(redis|memory)/' },
    },
    {
      name: 'websockets-only-in-the-client-server',
      severity: 'error',
      comment: 'The source-server process must not load WebSocket code.',
      from: { path: '^services/', pathNot: '^services/client-server/' },
      to: { path: 'node_modules/(ws|@fastify/websocket)/' },
    },
    {
      name: 'services-import-no-dev-code',
      severity: 'error',
      comment: 'What ships imports nothing from tests, the bench, dev tools, the SDK or the CLI.',
      from: { path: '^services/' },
      to: { path: '^(test|bench|tools|sdk|cli)/' },
    },
    {
      name: 'bench-imports-no-test-code',
      severity: 'error',
      comment: 'The bench shares dev tooling through tools/, never test helpers.',
      from: { path: '^(bench|tools)/' },
      to: { path: '^test/' },
    },
    {
      name: 'cli-and-sdk-are-standalone',
      severity: 'error',
      comment: 'The SDK and the CLI are packages of their own: they import nothing of the services.',
      from: { path: '^(sdk|cli)/' },
      to: { path: '^(services|test|bench|tools)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|sdk/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
