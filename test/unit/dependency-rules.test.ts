/**
 * The folder rules of .dependency-cruiser.mjs (`npm run check:deps`), run on a planted tree: each
 * forbidden edge must be reported under its rule's name and each allowed one not at all, so a rule
 * that is weakened or stops matching (a path typo, imports that no longer resolve) fails here.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), '../../.dependency-cruiser.mjs');

/** File → what it imports (relative, as in the repository). Every imported file exists in the tree. */
const PLANTED: Record<string, string[]> = {
  // The planted import of the issue: the product reaching into test/.
  'functions/planted.ts': ['../test/support/helper'],
  'functions/app.ts': ['../coordination/clock/clock', '../ledger/payment', '../client/payments-client'],
  'test/support/helper.ts': [],
  'test/unit/app.test.ts': [
    '../../functions/app',
    '../../dev/start',
    '../../cli/payctl',
    '../../loadtest/run',
  ],
  'ledger/payment.ts': [],
  'ledger/uses-coordination.ts': ['../coordination/clock/clock'],
  'coordination/clock/clock.ts': ['../../ledger/payment'],
  'coordination/uses-functions.ts': ['../functions/app'],
  'client/payments-client.ts': ['type:../ledger/payment'],
  'client/uses-ledger-value.ts': ['../ledger/payment'],
  'loadtest/run.ts': ['../client/payments-client'],
  'loadtest/uses-dev.ts': ['../dev/start'],
  'dev/start.ts': ['../functions/app', '../loadtest/run', './cluster/local-control'],
  'dev/uses-test.ts': ['../test/support/helper'],
  'dev/cluster/local-control.ts': [],
  'dev/cluster/dev-admin-key.ts': [],
  'dev/cluster/host-fleet.ts': [],
  'cli/payctl.ts': [
    '../dev/cluster/local-control',
    '../dev/cluster/dev-admin-key',
    '../dev/cluster/host-fleet',
    '../client/payments-client',
  ],
  'cli/uses-launcher.ts': ['../dev/start'],
  // A cycle between two files, and one between two folders whose files form no cycle.
  'coordination/events/a.ts': ['./b'],
  'coordination/events/b.ts': ['./a'],
  'coordination/cluster/view.ts': ['../election/fence'],
  'coordination/election/fence.ts': [],
  'coordination/election/campaign.ts': ['../cluster/member'],
  'coordination/cluster/member.ts': [],
};

const EXPECTED = [
  'product-not-to-tooling: functions/planted.ts → test/support/helper.ts',
  'ledger-not-to-upper-layers: ledger/uses-coordination.ts → coordination/clock/clock.ts',
  'coordination-not-to-functions-or-client: coordination/uses-functions.ts → functions/app.ts',
  'client-only-types-from-product: client/uses-ledger-value.ts → ledger/payment.ts',
  'loadtest-only-to-product: loadtest/uses-dev.ts → dev/start.ts',
  'dev-not-to-test-or-cli: dev/uses-test.ts → test/support/helper.ts',
  'cli-only-launcher-control-from-dev: cli/uses-launcher.ts → dev/start.ts',
  'no-circular: coordination/events/a.ts → coordination/events/b.ts',
  'no-folder-cycle: coordination/cluster → coordination/election',
  'no-folder-cycle: coordination/election → coordination/cluster',
  // The two upward imports above also close folder cycles with allowed edges going down.
  'no-folder-cycle: ledger → coordination/clock',
  'no-folder-cycle: coordination/clock → ledger',
  'no-folder-cycle: loadtest → dev',
  'no-folder-cycle: dev → loadtest',
];

let root: string;
let violations: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dependency-rules-'));
  for (const [file, imports] of Object.entries(PLANTED)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    const lines = imports.map((spec, i) =>
      spec.startsWith('type:')
        ? `import type { T as T${i} } from '${spec.slice('type:'.length)}';`
        : `import { v as v${i} } from '${spec}';`,
    );
    const uses = imports.map((spec, i) => (spec.startsWith('type:') ? `T${i}` : `typeof v${i}`));
    await writeFile(
      join(root, file),
      [
        ...lines,
        'export const v = 1;',
        'export type T = number;',
        `export type Uses = [${uses.join(', ')}];`,
        '',
      ].join('\n'),
    );
  }
  const options = await extractDepcruiseOptions(CONFIG);
  const { output } = await cruise(['.'], { ...options, baseDir: root });
  if (typeof output === 'string') throw new Error('expected a cruise result, got a report');
  violations = (output.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('dependency rules (.dependency-cruiser.mjs)', () => {
  it('reports a planted import from functions/ into test/ as product-not-to-tooling', () => {
    expect(violations).toContain('product-not-to-tooling: functions/planted.ts → test/support/helper.ts');
  });

  it('reports every forbidden edge under its rule, and no allowed one', () => {
    expect([...new Set(violations)].sort()).toEqual([...EXPECTED].sort());
  });
});
