// Architecture rules, checked by `npm test` (`npm run lint:deps`, a few seconds); each rule's comment says why.
/** The product folders: everything but test/ (bench/ and testkit/ included: neither may import test/). */
const PRODUCT = '^(engine|gateway|chain|persistence|exchange|db|demo|config|audit|custody|compose|tools|bench|testkit)/';
/** What the separate services run in production (the Docker image has no devDependencies). */
const SERVICES = '^(engine/(core|wire|daemon)|gateway|chain|persistence|db|config|audit|custody|compose)/';

module.exports = {
  forbidden: [
    {
      name: 'engine-core-pure',
      comment: 'engine/core does no I/O, reads no clock: it imports only itself and sorted-btree (no node:*, Kafka, Postgres, Fastify, ethers).',
      severity: 'error',
      from: { path: '^engine/core/' },
      to: { pathNot: ['^engine/core/', '^node_modules/sorted-btree/'] },
    },
    {
      name: 'no-test-from-product',
      comment: 'Product code (bench/ included) never imports test/: shared fixtures live in testkit/.',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^test/' },
    },
    {
      name: 'no-runtime-cycles',
      comment: 'No import cycle that exists at run time (type-only imports are erased and do not count).',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'engine-core-through-its-index',
      comment: 'Outside the engine, engine/core is reached through its public entry point, engine/core/index.ts.',
      severity: 'error',
      from: { pathNot: ['^engine/', '^test/'] },
      to: { path: '^engine/core/', pathNot: ['^engine/core/index\\.ts$'] },
    },
    {
      name: 'services-use-production-dependencies',
      comment: 'The services run from an install without devDependencies (compose/Dockerfile).',
      severity: 'error',
      from: { path: SERVICES, pathNot: ['^chain/devnet/'] },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every import resolves.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|web)/' },
    // typebox publishes only through package.json "exports" with an "import" condition.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main', 'types'] },
  },
};
