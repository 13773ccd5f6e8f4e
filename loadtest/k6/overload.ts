/**
 * k6 scenario "overload" (parameters in loadtest/scenarios.ts, shared with
 * `npm run load -- --scenario overload`): 1,000/s, then 3,000/s, then 1,000/s of new payments.
 * Unlike the other scripts, an answer passes when it is a 201 or a shed request (503 or 429 with
 * Retry-After): what fails is a timeout, a connection error or any other status. Accepted and
 * shed answers get their own latency trends, so the accepted payments' p99 can be read apart.
 *
 * Run: k6 run loadtest/k6/overload.ts   (TARGETS, SCALE, RUN_ID, PAYMENTS_API_KEY: see common.ts)
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { API_KEY_ENV, authHeaders } from '../api-key.ts';
import { DEFAULT_TARGETS, paymentBody, SCENARIOS } from '../scenarios.ts';
import { optionsFor } from './common.ts';

const scenario = SCENARIOS.overload;
const targets = (__ENV.TARGETS ?? DEFAULT_TARGETS.join(',')).split(',').filter(Boolean);
const runId = __ENV.RUN_ID ?? `k6o-${Date.now().toString(36)}`;
const params = { headers: { ...authHeaders(__ENV[API_KEY_ENV]), 'content-type': 'application/json' } };

const acceptedMs = new Trend('accepted_duration', true);
const shedMs = new Trend('shed_duration', true);
const shed = new Counter('shed_requests');

export const options = {
  ...optionsFor(scenario),
  thresholds: {
    // Every answer is an acknowledgement or a prompt, well-formed refusal.
    checks: ['rate>0.99'],
    // A shed answer must come at once, not after the hosts' 5 s deadline.
    shed_duration: ['p(99)<1000'],
  },
};

export default function (): void {
  const n = exec.scenario.iterationInTest;
  const id = `${runId}-${__VU}-${n}`;
  const res = http.post(
    `${targets[n % targets.length]!}/payments`,
    paymentBody(id, n, scenario.accounts),
    params,
  );
  const isShed = (res.status === 503 || res.status === 429) && res.headers['Retry-After'] !== undefined;
  if (res.status === 201) acceptedMs.add(res.timings.duration);
  if (isShed) {
    shed.add(1);
    shedMs.add(res.timings.duration);
  }
  check(res, { 'created, or shed with Retry-After': (r) => r.status === 201 || isShed });
}
