/// <reference types="k6" />
/**
 * What the four k6 scripts share: k6 options built from a scenario of loadtest/scenarios.ts (the
 * same parameters the Node runner uses), and one iteration that sends the scenario's request mix.
 *
 * Run (k6 ≥ 0.57 runs TypeScript directly): k6 run loadtest/k6/steady.ts
 * Targets: TARGETS=http://127.0.0.1:8081,http://127.0.0.1:8082 k6 run ...  (default: the `npm start` hosts)
 * Shorter runs: SCALE=0.25 k6 run ...  (multiplies every stage's duration)
 * API key: PAYMENTS_API_KEY=<key> k6 run ...  (sent as `Authorization: Bearer <key>`; none without it)
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { API_KEY_ENV, authHeaders } from '../api-key.ts';
import { accountsOf, DEFAULT_TARGETS, paymentBody, pickKind, type Scenario } from '../scenarios.ts';

const targets = (__ENV.TARGETS ?? DEFAULT_TARGETS.join(',')).split(',').filter(Boolean);
const scale = Number(__ENV.SCALE ?? 1);
const runId = __ENV.RUN_ID ?? `k6-${Date.now().toString(36)}`;
const auth = authHeaders(__ENV[API_KEY_ENV]);

/** k6 options: a ramping-arrival-rate executor that holds each stage's rate for its duration. */
export function optionsFor(scenario: Scenario): Options {
  const first = scenario.stages[0]!;
  return {
    scenarios: {
      [scenario.name]: {
        executor: 'ramping-arrival-rate',
        startRate: first.ratePerSecond,
        timeUnit: '1s',
        preAllocatedVUs: scenario.connections,
        maxVUs: scenario.connections * 2,
        // A 1 s ramp into each stage, then hold it.
        stages: scenario.stages.flatMap((s) => [
          { target: s.ratePerSecond, duration: '1s' },
          { target: s.ratePerSecond, duration: `${Math.max(1, Math.round(s.durationSeconds * scale) - 1)}s` },
        ]),
      },
    },
    thresholds: {
      checks: ['rate>0.99'],
      'http_req_duration{kind:create}': ['p(99)<50'],
    },
  };
}

/** Payments this VU had acknowledged, for retries, conflicts and reads (k6 VUs share no state). */
const acknowledged: { id: string; n: number }[] = [];

export function iteration(scenario: Scenario): void {
  const n = exec.scenario.iterationInTest;
  const base = targets[n % targets.length]!;
  const kind = acknowledged.length === 0 ? 'create' : pickKind(scenario.mix, Math.random());
  const earlier = acknowledged[Math.floor(Math.random() * acknowledged.length)];
  const json = { headers: { ...auth, 'content-type': 'application/json' }, tags: { kind } };
  if (kind === 'create' || !earlier) {
    const id = `${runId}-${__VU}-${n}`;
    const res = http.post(`${base}/payments`, paymentBody(id, n, scenario.accounts), json);
    if (check(res, { 'create: 201': (r) => r.status === 201 })) acknowledged.push({ id, n });
  } else if (kind === 'retry') {
    const res = http.post(`${base}/payments`, paymentBody(earlier.id, earlier.n, scenario.accounts), json);
    check(res, {
      'retry: 200 replayed': (r) => r.status === 200 && r.headers['Idempotent-Replayed'] === 'true',
    });
  } else if (kind === 'conflict') {
    const res = http.post(
      `${base}/payments`,
      paymentBody(earlier.id, earlier.n, scenario.accounts, true),
      json,
    );
    check(res, { 'conflict: 409': (r) => r.status === 409 });
  } else if (kind === 'history') {
    const account = `acct-${n % scenario.accounts}`;
    const res = http.get(`${base}/payments?account=${account}&limit=${scenario.historyLimit}`, {
      headers: auth,
      tags: { kind },
    });
    check(res, { 'history: 200': (r) => r.status === 200 });
  } else {
    // A payment is its payer and id: name the payer, so the read never depends on other payers' ids.
    const { payer } = accountsOf(earlier.n, scenario.accounts);
    const res = http.get(`${base}/payments/${earlier.id}?payer=${payer}`, { headers: auth, tags: { kind } });
    check(res, { 'get: 200': (r) => r.status === 200 });
  }
}
