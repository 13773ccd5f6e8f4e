/**
 * The load scenarios, in one place: the k6 scripts (loadtest/k6-*.ts) and the Node runner
 * (`npm run load`, loadtest/run-load.ts) both read these parameters and build requests with the
 * same functions, so the two tools offer the same load. Plain TypeScript with no Node imports,
 * because k6 runs it too.
 */

/** A period of constant offered load. */
export interface Stage {
  durationSeconds: number;
  /** Requests per second offered across all hosts. */
  ratePerSecond: number;
}

/** Shares of each kind of request; they add up to 1. */
export interface RequestMix {
  /** POST of a new payment id. */
  create: number;
  /** POST that repeats an earlier id with the same content (a client retry): expect 200. */
  retry: number;
  /** POST that repeats an earlier id with other content: expect 409. */
  conflict: number;
  /** GET /payments?account=…: one page of an account's history. */
  history: number;
  /** GET /payments/:id of an earlier payment. */
  get: number;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  stages: Stage[];
  mix: RequestMix;
  /** Distinct accounts payments move between; fewer accounts mean longer histories. */
  accounts: number;
  /** Open connections (k6: virtual users) across all hosts. */
  connections: number;
  /** Page size of history reads. */
  historyLimit: number;
}

export const SCENARIO_NAMES = ['steady', 'spike', 'duplicate-storm', 'read-heavy', 'overload'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const writesOnly: RequestMix = { create: 1, retry: 0, conflict: 0, history: 0, get: 0 };

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  steady: {
    name: 'steady',
    description: 'constant 2,000 new payments/s: the latency target (p99 ≤ 50 ms) is stated at this rate',
    stages: [{ durationSeconds: 20, ratePerSecond: 2000 }],
    mix: writesOnly,
    accounts: 1000,
    connections: 64,
    historyLimit: 50,
  },
  spike: {
    name: 'spike',
    description: 'quiet 500/s, a 10 s spike to 6,000/s, quiet again: batches must grow and shrink with load',
    stages: [
      { durationSeconds: 10, ratePerSecond: 500 },
      { durationSeconds: 10, ratePerSecond: 6000 },
      { durationSeconds: 10, ratePerSecond: 500 },
    ],
    mix: writesOnly,
    accounts: 1000,
    connections: 128,
    historyLimit: 50,
  },
  'duplicate-storm': {
    name: 'duplicate-storm',
    description:
      '2,000/s of which 20% are retries of earlier ids, a quarter of those with other content (409)',
    stages: [{ durationSeconds: 20, ratePerSecond: 2000 }],
    mix: { create: 0.8, retry: 0.15, conflict: 0.05, history: 0, get: 0 },
    accounts: 1000,
    connections: 64,
    historyLimit: 50,
  },
  'read-heavy': {
    name: 'read-heavy',
    description: '1,500/s: 20% new payments, 60% history pages over 50 busy accounts, 20% reads by id',
    stages: [{ durationSeconds: 20, ratePerSecond: 1500 }],
    mix: { create: 0.2, retry: 0, conflict: 0, history: 0.6, get: 0.2 },
    accounts: 50,
    connections: 64,
    historyLimit: 50,
  },
  overload: {
    name: 'overload',
    description:
      '1,000/s, then 20 s at 3,000/s (3× what the bench sustained here), then 1,000/s: hosts shed the excess with 503 + Retry-After and recover',
    stages: [
      { durationSeconds: 10, ratePerSecond: 1000 },
      { durationSeconds: 20, ratePerSecond: 3000 },
      { durationSeconds: 10, ratePerSecond: 1000 },
    ],
    mix: writesOnly,
    accounts: 1000,
    // Enough for the offered rate while accepted payments take hundreds of ms; shed answers are quick.
    connections: 384,
    historyLimit: 50,
  },
};

/** The hosts `npm start` runs. */
export const DEFAULT_TARGETS = ['http://127.0.0.1:8081', 'http://127.0.0.1:8082', 'http://127.0.0.1:8083'];

export type RequestKind = keyof RequestMix;

/** Picks the kind of the next request from a uniform random number in [0, 1). */
export function pickKind(mix: RequestMix, random: number): RequestKind {
  let left = random;
  for (const kind of ['create', 'retry', 'conflict', 'history', 'get'] as const) {
    if (left < mix[kind]) return kind;
    left -= mix[kind];
  }
  return 'create';
}

/** The account of payment number `n`: payer and payee differ and spread over `accounts`. */
export function accountsOf(n: number, accounts: number): { payer: string; payee: string } {
  const payer = n % accounts;
  const payee = (payer + 1 + (Math.floor(n / accounts) % (accounts - 1))) % accounts;
  return { payer: `acct-${payer}`, payee: `acct-${payee}` };
}

/** The JSON body of payment number `n` with id `id`; `conflicting` changes the amount. */
export function paymentBody(id: string, n: number, accounts: number, conflicting = false): string {
  const { payer, payee } = accountsOf(n, accounts);
  const amount = 100 + (n % 9900) + (conflicting ? 1 : 0);
  return `{"id":"${id}","payer":"${payer}","payee":"${payee}","amount":${amount},"currency":"EUR"}`;
}

/** Total seconds of a scenario, for progress display and bounds. */
export const scenarioSeconds = (s: Scenario): number => s.stages.reduce((t, st) => t + st.durationSeconds, 0);
