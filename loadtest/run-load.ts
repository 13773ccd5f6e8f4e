/**
 * `npm run load -- --scenario steady`: runs one scenario of loadtest/scenarios.ts against a
 * running cluster with autocannon (for machines without k6), prints the same figures as the
 * bench, then checks that every payment the hosts acknowledged is in the ledger exactly once,
 * with the content of its first commit: once in its payer's history, once in its payee's, with
 * the sequence it was acknowledged with. A payment is identified by its payer and id, so the check
 * counts (payer, id), and reads by id name the payer. Exits 1 when a check fails.
 *
 * Default targets are the `npm start` hosts (127.0.0.1:8081-8083); --targets overrides.
 */
import { parseArgs } from 'node:util';
import { paymentKey } from '../ledger/payment';
import { API_KEY_ENV, authHeaders, resolveApiKey } from './api-key';
import { type PlannedRequest, runHttpLoad } from './http-driver';
import { figuresRow, type LoadFigures } from './latency-stats';
import {
  accountsOf,
  DEFAULT_TARGETS,
  paymentBody,
  pickKind,
  SCENARIO_NAMES,
  SCENARIOS,
  type ScenarioName,
  scenarioSeconds,
} from './scenarios';

const HELP = `Usage: npm run load -- --scenario NAME [flags]

  --scenario NAME   one of ${SCENARIO_NAMES.join(', ')}          default steady
  --targets LIST    host base URLs, comma-separated       default ${DEFAULT_TARGETS.join(',')}
  --scale X         multiply every stage's duration (0.1 to 3)  default 1
  --skip-verify     do not check the ledger afterwards
  --api-key KEY     send Authorization: Bearer KEY        default $${API_KEY_ENV}, else none
  --help            this text
`;

const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string' },
    targets: { type: 'string' },
    scale: { type: 'string' },
    'skip-verify': { type: 'boolean' },
    'api-key': { type: 'string' },
    help: { type: 'boolean' },
  },
});
const fail = (message: string): never => {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
};
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const name = (flags.scenario ?? 'steady') as ScenarioName;
if (!SCENARIO_NAMES.includes(name)) fail(`unknown scenario ${flags.scenario}`);
const scale = Number(flags.scale ?? 1);
if (!(scale >= 0.1 && scale <= 3)) fail(`--scale must be between 0.1 and 3, got ${flags.scale}`);
const targets = (flags.targets ?? DEFAULT_TARGETS.join(',')).split(',').filter(Boolean);
const scenario = SCENARIOS[name];
const headers = authHeaders(resolveApiKey(flags['api-key'], process.env[API_KEY_ENV]));
const runId = `ld${Date.now().toString(36)}`;
const log = (line: string) => console.log(`[load ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---- preflight ----
for (const t of targets) {
  const ok = await fetch(`${t}/ready`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!ok) fail(`${t}/ready does not answer 200: start the cluster (npm start) or pass --targets`);
}

// ---- load ----
interface Acked {
  n: number;
  /** Sequence the acknowledging answer carried. */
  sequence: number;
}
/** Payment id → what its first acknowledgement said. */
const acked = new Map<string, Acked>();
const ackedIds: string[] = [];
const unexpected = new Map<string, number>();
let created = 0;

interface Tag {
  kind: ReturnType<typeof pickKind>;
  id?: string;
  n?: number;
}

function next(): PlannedRequest {
  const pick = ackedIds.length === 0 ? 'create' : pickKind(scenario.mix, Math.random());
  const id = ackedIds[Math.floor(Math.random() * ackedIds.length)];
  const earlier = id === undefined ? undefined : acked.get(id);
  if (pick === 'create' || !id || !earlier) {
    const n = created++;
    const newId = `${runId}-${n}`;
    const tag: Tag = { kind: 'create', id: newId, n };
    return {
      method: 'POST',
      path: '/payments',
      body: paymentBody(newId, n, scenario.accounts),
      expect: [201],
      tag,
    };
  }
  switch (pick) {
    case 'retry':
      return {
        method: 'POST',
        path: '/payments',
        body: paymentBody(id, earlier.n, scenario.accounts),
        expect: [200],
        tag: { kind: pick, id, n: earlier.n },
      };
    case 'conflict':
      return {
        method: 'POST',
        path: '/payments',
        body: paymentBody(id, earlier.n, scenario.accounts, true),
        expect: [409],
        tag: { kind: pick, id },
      };
    case 'history': {
      const account = `acct-${Math.floor(Math.random() * scenario.accounts)}`;
      return {
        method: 'GET',
        path: `/payments?account=${account}&limit=${scenario.historyLimit}`,
        expect: [200],
        tag: { kind: pick },
      };
    }
    default: {
      const { payer } = accountsOf(earlier.n, scenario.accounts);
      return {
        method: 'GET',
        path: `/payments/${id}?payer=${payer}`,
        expect: [200],
        tag: { kind: pick, id },
      };
    }
  }
}

const SEQUENCE = /"sequence":(\d+)/;
function onAnswer(request: PlannedRequest, status: number, body: string): void {
  const tag = request.tag as Tag;
  if (!request.expect.includes(status)) {
    const key = `${tag.kind} → ${status}`;
    unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
  }
  if (tag.kind === 'create' && status === 201 && tag.id !== undefined && tag.n !== undefined) {
    acked.set(tag.id, { n: tag.n, sequence: Number(body.match(SEQUENCE)?.[1]) });
    ackedIds.push(tag.id);
  }
  if (tag.kind === 'retry' && status === 200 && tag.id !== undefined) {
    const first = acked.get(tag.id);
    if (first && Number(body.match(SEQUENCE)?.[1]) !== first.sequence) {
      unexpected.set(
        'retry answered with another sequence',
        (unexpected.get('retry answered with another sequence') ?? 0) + 1,
      );
    }
  }
}

const total = Math.round(scenarioSeconds(scenario) * scale);
log(`scenario ${name}: ${scenario.description}`);
log(`${total} s against ${targets.join(', ')}`);
const stages: { label: string; figures: LoadFigures }[] = [];
for (const [i, stage] of scenario.stages.entries()) {
  const seconds = Math.max(1, Math.round(stage.durationSeconds * scale));
  const label = `stage ${i + 1}: ${stage.ratePerSecond}/s × ${seconds} s`;
  log(`${label} ...`);
  const t0 = performance.now();
  const figures = await runHttpLoad({
    targets,
    ratePerSecond: stage.ratePerSecond,
    connections: scenario.connections,
    durationSeconds: seconds,
    headers,
    next,
    onAnswer,
    onProgress: (done) =>
      log(`  ${Math.round((performance.now() - t0) / 1000)}/${seconds} s, ${done} answered`),
  });
  stages.push({ label, figures });
}
console.table(stages.map((s) => figuresRow(s.label, s.figures)));
if (unexpected.size > 0) console.table([...unexpected].map(([what, count]) => ({ what, count })));

// ---- verification ----
if (flags['skip-verify']) process.exit(0);
log(
  `verifying ${acked.size} acknowledged payments: each exactly once in its payer's and payee's history ...`,
);
const accounts = new Set<string>();
for (const { n } of acked.values()) {
  const { payer, payee } = accountsOf(n, scenario.accounts);
  accounts.add(payer);
  accounts.add(payee);
}
/** paymentKey (payer and id) → occurrences across the histories of its two accounts. */
const seen = new Map<string, { count: number; sequence: number; amount: number }>();
let pages = 0;
const problems: string[] = [];
const accountList = [...accounts];
async function readAccount(account: string, target: string): Promise<void> {
  let cursor: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const url = `${target}/payments?account=${account}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const page = (await res.json()) as {
      payments: { id: string; payer: string; sequence: number; amount: number }[];
      nextCursor: string | null;
    };
    pages += 1;
    for (const p of page.payments) {
      if (!p.id.startsWith(`${runId}-`)) continue;
      const key = paymentKey(p);
      const entry = seen.get(key) ?? { count: 0, sequence: p.sequence, amount: p.amount };
      entry.count += 1;
      if (entry.sequence !== p.sequence) problems.push(`${key} has two sequences`);
      seen.set(key, entry);
    }
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
  throw new Error(`history of ${account} did not end`);
}
let nextAccount = 0;
await Promise.all(
  Array.from({ length: 8 }, async (_, w) => {
    while (nextAccount < accountList.length) {
      const account = accountList[nextAccount++]!;
      await readAccount(account, targets[w % targets.length]!);
    }
  }),
);
for (const [id, first] of acked) {
  const found = seen.get(paymentKey({ id, payer: accountsOf(first.n, scenario.accounts).payer }));
  const expectedAmount = JSON.parse(paymentBody(id, first.n, scenario.accounts)).amount as number;
  if (!found) problems.push(`${id} acknowledged but missing from the ledger`);
  else if (found.count !== 2)
    problems.push(`${id} appears ${found.count} times across its payer's and payee's history (want 2)`);
  else if (found.sequence !== first.sequence)
    problems.push(`${id} acknowledged with sequence ${first.sequence}, stored ${found.sequence}`);
  else if (found.amount !== expectedAmount)
    problems.push(`${id} stored with amount ${found.amount}, want ${expectedAmount}`);
}
log(`read ${pages} history pages over ${accounts.size} accounts`);
if (problems.length > 0) {
  console.log(`verification FAILED: ${problems.length} problems, first ones:`);
  for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  process.exit(1);
}
log(
  `verification passed: all ${acked.size} acknowledged payments are in the ledger exactly once, with their first content`,
);
// Unexpected statuses are printed above (overload shows there); only a ledger violation fails the run.
process.exit(0);
