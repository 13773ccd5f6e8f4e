/**
 * Which folder may import which, checked by dependency-cruiser in `npm run check` (`npm run check:deps`).
 *
 * The product is functions/, ledger/, coordination/ and client/. Inside it imports point down:
 * functions → coordination → ledger, and client → ledger (types only). Tooling points at the product:
 * loadtest → product, dev → product + loadtest, cli → product + three launcher files in dev/, and
 * test/ may import anything. Nothing imports test/.
 *
 * Those edges leave no cycle between top-level folders. `no-folder-cycle` also catches cycles between
 * subfolders (coordination/clock ↔ coordination/events), and `no-circular` cycles between files.
 * test/unit/dependency-rules.test.ts runs these rules on a planted tree, so a rule that stops
 * matching fails a test.
 */

const PRODUCT = '^(functions|ledger|coordination|client)/';

/** What cli/ may take from dev/: the local cluster's control state (kill, restart, replace-member), the dev admin key, the repository root. */
const CLI_ALLOWED_DEV_FILES = [
  'dev/cluster/local-control.ts',
  'dev/cluster/dev-admin-key.ts',
  'dev/cluster/host-fleet.ts',
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'product-not-to-tooling',
      comment:
        'The product (functions, ledger, coordination, client) never imports cli/, dev/, test/ or loadtest/.',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^(cli|dev|test|loadtest)/' },
    },
    {
      name: 'ledger-not-to-upper-layers',
      comment: 'ledger/ is the bottom layer: it imports neither coordination/, functions/ nor client/.',
      severity: 'error',
      from: { path: '^ledger/' },
      to: { path: '^(coordination|functions|client)/' },
    },
    {
      name: 'coordination-not-to-functions-or-client',
      comment: 'coordination/ may import ledger/, never functions/ or client/.',
      severity: 'error',
      from: { path: '^coordination/' },
      to: { path: '^(functions|client)/' },
    },
    {
      name: 'client-only-types-from-product',
      comment:
        "client/ ships to applications: it takes only types from the rest of the product (the payment's shape).",
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(functions|ledger|coordination)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'loadtest-only-to-product',
      comment: 'loadtest/ drives the product; it imports none of cli/, dev/, test/ (dev/ imports loadtest/).',
      severity: 'error',
      from: { path: '^loadtest/' },
      to: { path: '^(cli|dev|test)/' },
    },
    {
      name: 'dev-not-to-test-or-cli',
      comment:
        'dev/ (launcher, bench, chaos, measurements, report) imports the product and loadtest/, never test/ or cli/.',
      severity: 'error',
      from: { path: '^dev/' },
      to: { path: '^(test|cli)/' },
    },
    {
      name: 'cli-not-to-test-or-loadtest',
      comment: 'cli/ imports the product and client/, never test/ or loadtest/.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(test|loadtest)/' },
    },
    {
      name: 'cli-only-launcher-control-from-dev',
      comment: `From dev/, cli/ imports only the launcher's control files: ${CLI_ALLOWED_DEV_FILES.join(', ')}.`,
      severity: 'error',
      from: { path: '^cli/' },
      to: {
        path: '^dev/',
        pathNot: `^(${CLI_ALLOWED_DEV_FILES.map((file) => file.replaceAll('.', '\\.')).join('|')})$`,
      },
    },
    {
      name: 'no-circular',
      comment: 'No import cycle between files, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'No import cycle between folders: files of two folders importing each other count.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'Every import resolves (k6/* exists only inside the k6 runtime), so a rule cannot pass on an import it failed to see.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^k6(/|$)' },
    },
  ],
  options: {
    exclude: { path: '^(node_modules|results|docs|\\.data|coverage)/' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
