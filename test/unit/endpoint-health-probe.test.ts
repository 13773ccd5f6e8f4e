/**
 * The etcd health probe's calls (coordination/etcd/endpoint-health.ts), over scripted fake members:
 * Status goes only to a member whose last linearizable read failed or is still out, and an
 * election (reads hang, Status answers) never makes etcd count as lost, while a silent etcd does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdEndpointHealth, type ProbeClient } from '../../coordination/etcd/endpoint-health';

type Answer = 'answer' | 'hang';

/** A member whose read and Status answers the test sets; a hung call fails at the probe deadline. */
function fakeMember(deadlineMs: number) {
  const member = { read: 'answer' as Answer, status: 'answer' as Answer, reads: 0, statuses: 0 };
  const call = (how: Answer) =>
    how === 'answer'
      ? Promise.resolve({})
      : new Promise((_, reject) => setTimeout(() => reject(new Error('deadline exceeded')), deadlineMs));
  const client: ProbeClient = {
    maintenance: {
      status: () => {
        member.statuses += 1;
        return call(member.status) as ReturnType<ProbeClient['maintenance']['status']>;
      },
    },
    get: () => ({
      exec: () => {
        member.reads += 1;
        return call(member.read);
      },
    }),
    close: () => {},
  };
  return { member, client };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started: EtcdEndpointHealth[] = [];
afterEach(() => {
  for (const h of started.splice(0)) h.stop();
});

function probeOver(count: number) {
  const deadlineMs = 40;
  const fakes = Array.from({ length: count }, () => fakeMember(deadlineMs));
  const urls = fakes.map((_, i) => `https://127.0.0.1:${2379 + i}`);
  const health = new EtcdEndpointHealth({
    endpoints: urls,
    probeKey: 'probe',
    intervalMs: 20,
    probeDeadlineMs: deadlineMs,
    lostAfterMs: 60,
    tickMs: 10,
    // Generous: a busy test machine must not pass its own stalls off as etcd's silence, or the reverse.
    lateToleranceMs: 200,
    probeClient: (url) => fakes[urls.indexOf(url)]!.client,
  });
  started.push(health);
  return { health, members: fakes.map((f) => f.member) };
}

describe('etcd health probe', () => {
  it('status-every-round: while reads answer, Status goes only in the first round', async () => {
    const { health, members } = probeOver(3);
    health.start();
    await sleep(200);
    for (const m of members) {
      expect(m.reads).toBeGreaterThanOrEqual(5);
      expect(m.statuses).toBe(1);
    }
    expect(health.reachable()).toBe(true);
  });

  it('election-reads-hang: with every read hanging and Status answering, etcd stays reachable', async () => {
    const { health, members } = probeOver(3);
    health.start();
    await sleep(60);
    for (const m of members) m.read = 'hang';
    const seen: boolean[] = [];
    health.onChange((reachable) => seen.push(reachable));
    await sleep(400);
    expect(seen).toEqual([]);
    expect(health.reachable()).toBe(true);
    // Status went to every member in the rounds after the first hung read.
    for (const m of members) expect(m.statuses).toBeGreaterThanOrEqual(5);
  });

  it('silent etcd: with reads and Status hanging, etcd counts as lost, and is reachable again on an answer', async () => {
    const { health, members } = probeOver(3);
    health.start();
    await sleep(60);
    for (const m of members) {
      m.read = 'hang';
      m.status = 'hang';
    }
    await sleep(400);
    expect(health.reachable()).toBe(false);
    for (const m of members) m.status = 'answer';
    await sleep(150);
    expect(health.reachable()).toBe(true);
  });
});
