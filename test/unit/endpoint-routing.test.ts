/**
 * The main client's routing (coordination/etcd/endpoint-routing.ts). Regression for the
 * watch-compaction test's 503: after each etcd member in turn was SIGKILLed and restarted, every
 * member's circuit breaker had opened on its own failures and was still waiting out its 2 s
 * cool-down while etcd was healthy again, so the API key read failed with "Execution prevented
 * because the circuit breaker is open" and /cluster answered 503.
 */
import { PassThrough } from 'node:stream';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { EtcdEndpointRouting } from '../../coordination/etcd/endpoint-routing';

const breaker = () =>
  circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(3) });
const fail = () => Promise.reject(new Error('member down'));

describe('EtcdEndpointRouting', () => {
  it('every breaker open while etcd is fine again: a member that passes its probe is used again at once', async () => {
    const routing = new EtcdEndpointRouting();
    const members = ['a', 'b', 'c'].map((m) => routing.register(m, breaker()));
    for (const b of members) for (let i = 0; i < 3; i++) await b.execute(fail).catch(() => undefined);
    expect(members.map((b) => b.state)).toEqual([CircuitState.Open, CircuitState.Open, CircuitState.Open]);

    routing.route(new Set(['a', 'b']));
    expect(members.map((b) => b.state)).toEqual([
      CircuitState.Closed,
      CircuitState.Closed,
      CircuitState.Isolated,
    ]);
    expect(await members[0]!.execute(async () => 'answered')).toBe('answered');
  });

  it('a successful unary call counts as an answer from etcd; a failed one or an opened stream does not', async () => {
    const routing = new EtcdEndpointRouting();
    const b = routing.register('a', breaker());
    let answers = 0;
    const off = routing.onAnswer(() => answers++);
    await b.execute(async () => 'ok');
    await b.execute(fail).catch(() => undefined);
    expect(answers).toBe(1);
    // Opening a stream is local (etcd3 resolves it before any answer): a cut-off host's watch
    // reconnects must not count as etcd answering.
    await b.execute(async () => new PassThrough());
    expect(answers).toBe(1);
    off();
    await b.execute(async () => 'ok');
    expect(answers).toBe(1);
  });
});
