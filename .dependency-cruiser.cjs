/**
 * The layering of OpenITSMC, checked by `npm run lint` (depcruise src). See the README's architecture section.
 * Tests (`*.test.ts`, test-support files) may import anything.
 */
const TESTS = '(\\.test\\.ts$|/test-support\\.ts$|/testkit\\.ts$|/test-helpers\\.ts$|/test-fixtures\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules import each other in one direction only.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        'The pure core (src/core, src/actions, src/ingest) imports no adapter: no store, server, runtime, delivery, sync, ' +
        'connections, sandbox, CLI; of src/partners only the interfaces (partner.ts, descriptor.ts).',
      from: { path: '^src/(core|actions|ingest)/', pathNot: TESTS },
      to: {
        path: '^src/(store|server|runtime|cli|delivery|sync|connections|actiongroups|sandbox|workspace|workspaces|config|security)/|^src/partners/(?!(partner|descriptor)\\.ts$)',
      },
    },
    {
      name: 'core-speaks-no-http-or-sql',
      severity: 'error',
      comment: 'The pure core uses no HTTP server or client and no database.',
      from: { path: '^src/(core|actions|ingest)/', pathNot: TESTS },
      to: { path: '(^|node_modules/)(fastify|@fastify/[^/]+|kysely|pg|better-sqlite3)(/|$)|^(node:)?(http|https|net|dns)$' },
    },
    {
      name: 'only-runtime-imports-server',
      severity: 'error',
      comment: 'The HTTP server is wired by src/runtime only; services throw domain errors (src/core/errors.ts) instead.',
      from: { path: '^src/', pathNot: `^src/(runtime|server)/|${TESTS}` },
      to: { path: '^src/server/' },
    },
    {
      name: 'only-store-imports-database-drivers',
      severity: 'error',
      comment: 'Kysely, pg and better-sqlite3 are imported by src/store only (the emulators in src/sandbox keep their own SQLite).',
      from: { path: '^src/', pathNot: `^src/(store|sandbox)/|${TESTS}` },
      to: { path: '(^|node_modules/)(kysely|pg|better-sqlite3)(/|$)' },
    },
    {
      name: 'sandbox-only-for-runtime-cli-and-tests',
      severity: 'error',
      comment: 'The partner emulators are used by the quick start (runtime), the CLI, tests and the partner registry that lists them.',
      from: { path: '^src/', pathNot: `^src/(runtime|cli|sandbox)/|^src/partners/registry\\.ts$|${TESTS}` },
      to: { path: '^src/sandbox/' },
    },
    {
      name: 'partners-are-independent',
      severity: 'error',
      comment: "A partner's client and its emulator use shared code (src/partners/*.ts, src/sandbox/common), never another partner's folder.",
      from: { path: '^src/(partners|sandbox)/([^/]+)/', pathNot: TESTS },
      to: { path: '^src/(partners|sandbox)/[^/]+/', pathNot: '^src/(partners|sandbox)/($2|common)/' },
    },
    {
      name: 'test-support-only-for-tests',
      severity: 'error',
      comment: 'Test kits (e.g. src/store/testkit.ts, which opens the sealed store) are imported by tests and benchmarks only.',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: '/(test-support|testkit|test-helpers|test-fixtures)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
