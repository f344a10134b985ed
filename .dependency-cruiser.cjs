// Architecture rules, checked by `npm test` (`npm run lint:deps`, a few seconds); each rule's comment says why.
/** The compiled build's folders (one list: tsconfig.build.json), the product, with exchange/, demo/ and tools/. */
const BUILT = require('./tsconfig.build.json').include;
/** The product folders, bench/ and testkit/ included: none of them may import test/. */
const PRODUCT = `^(${[...BUILT, 'bench', 'testkit'].join('|')})/`;
/** What the separate services run in production (the Docker image has no devDependencies): the build without the
 * embedded exchange, its demo, the developer tools and the local devnet, which run from a full install. */
const SERVICES = `^(${BUILT.filter((f) => !['exchange', 'demo', 'tools'].includes(f)).join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'engine-core-pure',
      comment:
        'engine/core does no I/O, reads no clock: it imports only itself and sorted-btree (no node:*, Kafka, Postgres, Fastify, ethers).',
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
      from: { path: SERVICES, pathNot: ['^chain/devnet/', '^engine/demo/'] },
      // Type-only imports (the ws types of @fastify/websocket's sockets) are erased from the JavaScript.
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'build-is-closed',
      comment:
        'Built code imports only built code: `npm start` and the image run dist/, which holds only the folders in tsconfig.build.json.',
      severity: 'error',
      from: { path: `^(${BUILT.join('|')})/` },
      to: { dependencyTypes: ['local'], pathNot: `^(${BUILT.join('|')})/` },
    },
    {
      name: 'declared-dependencies',
      comment:
        "Every package imported is declared in package.json (not merely installed as some other package's dependency).",
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
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
    // Everything the TypeScript project holds; web/ is the browser page with its own tsconfig and bundler.
    // (node_modules is not excluded, only not followed: the rules look at which packages are imported.)
    exclude: { path: '^(dist|web|\\.[^/]+)/|^[^/]+\\.c?js$' },
    // typebox publishes only through package.json "exports" with an "import" condition.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
