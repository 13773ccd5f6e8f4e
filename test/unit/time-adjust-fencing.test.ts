/**
 * `POST /time/adjust`, in-process: every field of an adjustment is bounded (issue 17 §7: an
 * `errorMs` of 1e300 or an hour's `deltaMs` was accepted, and the host refused payments and
 * jumped), and an adjustment carries its master's fencing token, refused when older than the
 * highest this host has seen (issue 15 §6: during a handover two masters could both adjust).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { HybridClock } from '../../coordination/clock/hlc';
import { ClockSync } from '../../coordination/clock-sync/clock-sync';
import type { TimePeer } from '../../coordination/clock-sync/time-peer';
import type { HostInfo, LeaderInfo } from '../../coordination/cluster/cluster-view';
import { StaticClusterView } from '../../coordination/cluster/static-cluster-view';
import { issueHostKey } from '../../functions/auth/host-key';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, type TestApp } from '../support/test-app';

const HOSTS: HostInfo[] = ['h1', 'h2', 'h3'].map((id) => ({ id, url: `http://${id}`, since: '' }));

/** A view whose leader carries the fencing token the test sets, as the etcd election's does. */
class FencedView extends StaticClusterView {
  token = '7';
  override leader(): LeaderInfo | undefined {
    const leader = super.leader();
    return leader && { ...leader, fencingToken: this.token };
  }
}

const unusedPeer: TimePeer = {
  readTime: () => Promise.reject(new Error('not used')),
  sendAdjustment: () => Promise.reject(new Error('not used')),
};

let app: TestApp;
let view: FencedView;
let hostClock: HostClock;

beforeEach(() => {
  // True time stands still, so nothing is slewed in while the test reads the pending correction.
  hostClock = new HostClock({ source: () => 1_700_000_000_000 });
  view = new FencedView('h1', HOSTS, 'h2');
  const sync = new ClockSync({ clock: hostClock, view, peer: unusedPeer });
  app = createTestApp({
    ledger: new MemoryLedger(),
    clock: hostClock,
    hostId: 'h1',
    clocks: { hostClock, hlc: new HybridClock({ clock: hostClock }), sync },
  });
});

const adjust = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  app.request('/time/adjust', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ master: 'h2', deltaMs: 1, errorMs: 0.5, round: 1, fencingToken: '7', ...body }),
  });

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('adjustment bounds (issue 17 §7)', () => {
  it('errorMs 1e300 is refused with 400 invalid_request naming the field, and the clock is left alone', async () => {
    const res = await adjust({ errorMs: 1e300 });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('errorMs');
    expect(hostClock.synced).toBe(false);
  });

  it('an hour of deltaMs, a negative or fractional round and a non-numeric token are refused with 400', async () => {
    for (const body of [
      { deltaMs: 3_600_000 },
      { deltaMs: -3_600_000 },
      { round: -1 },
      { round: 1.5 },
      { round: 2 ** 60 },
      { fencingToken: 'abc' },
      { fencingToken: '1'.repeat(40) },
    ]) {
      const res = await adjust(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(hostClock.synced).toBe(false);
  });

  it('an adjustment within every bound is applied', async () => {
    const res = await adjust({ deltaMs: 2000, errorMs: 3 });
    expect(res.status).toBe(200);
    expect(hostClock.pendingMs()).toBeCloseTo(2000, 0);
  });
});

describe('strict adjustment bodies (issue 17 §7): the strict-JSON path of payments', () => {
  const raw = (body: string, contentType = 'application/json') =>
    app.request('/time/adjust', { method: 'POST', headers: { 'content-type': contentType }, body });
  const valid = { master: 'h2', deltaMs: 1, errorMs: 0.5, round: 1, fencingToken: '7' };

  it('an unknown field is refused with 400 invalid_request naming it', async () => {
    const res = await adjust({ slewMs: 5 });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('slewMs');
    expect(hostClock.synced).toBe(false);
  });

  it('bad types (a numeric string, null, a boolean, a number for the token) and a missing field are refused with 400 naming the field', async () => {
    for (const [field, value] of [
      ['deltaMs', '5'],
      ['errorMs', null],
      ['round', true],
      ['fencingToken', 7],
      ['master', undefined],
    ] as const) {
      const res = await raw(JSON.stringify({ ...valid, [field]: value }));
      expect(res.status, field).toBe(400);
      expect((await errorOf(res)).message, field).toContain(field);
    }
    expect(hostClock.synced).toBe(false);
  });

  it('a duplicate key, a body that is not an object and a body that is not JSON are refused with 400; a non-JSON type with 415', async () => {
    const duplicate =
      '{"master":"h2","deltaMs":1,"deltaMs":50000,"errorMs":0.5,"round":1,"fencingToken":"7"}';
    for (const body of [duplicate, '[]', '"h2"', 'null', '{"master":"h2",']) {
      const res = await raw(body);
      expect(res.status, body).toBe(400);
      expect((await errorOf(res)).code, body).toBe('invalid_request');
    }
    expect((await raw(JSON.stringify(valid), 'text/plain')).status).toBe(415);
    expect(hostClock.synced).toBe(false);
  });
});

describe('fenced adjustments (issue 15 §6)', () => {
  it('refuses a token older than the highest seen with 409 stale_master, and leaves the clock alone', async () => {
    expect((await adjust({ fencingToken: '9', deltaMs: 10 })).status).toBe(200);
    const stale = await adjust({ fencingToken: '8', deltaMs: 1000 });
    expect(stale.status).toBe(409);
    expect((await errorOf(stale)).code).toBe('stale_master');
    expect(hostClock.pendingMs()).toBeCloseTo(10, 0);
  });

  it("refuses a token older than the leader's in this host's view, even as the first adjustment", async () => {
    view.token = '12';
    const stale = await adjust({ fencingToken: '11' });
    expect(stale.status).toBe(409);
    expect((await errorOf(stale)).code).toBe('stale_master');
    expect((await adjust({ fencingToken: '12' })).status).toBe(200);
  });

  it('compares tokens as numbers, not strings', async () => {
    expect((await adjust({ fencingToken: '10' })).status).toBe(200);
    expect((await adjust({ fencingToken: '9' })).status).toBe(409);
    expect((await adjust({ fencingToken: '100' })).status).toBe(200);
  });
});

describe('the master field is bound to the sender (a host that is not the leader cannot act as master)', () => {
  it("refuses with 403 a host key claiming another host as master (h3's key, master h2), and leaves the clock alone", async () => {
    const h3Key = await issueHostKey(app.apiKeys, 'h3', '2026-01-01T00:00:00.000Z');
    const forged = await adjust({ master: 'h2', deltaMs: 1000 }, { authorization: `Bearer ${h3Key}` });
    expect(forged.status).toBe(403);
    expect((await errorOf(forged)).code).toBe('forbidden');
    expect(hostClock.synced).toBe(false);
  });

  it("accepts the leader's adjustment sent with the leader's own host key", async () => {
    const h2Key = await issueHostKey(app.apiKeys, 'h2', '2026-01-01T00:00:00.000Z');
    const res = await adjust({ master: 'h2', deltaMs: 5 }, { authorization: `Bearer ${h2Key}` });
    expect(res.status).toBe(200);
    expect(hostClock.pendingMs()).toBeCloseTo(5, 0);
  });

  it('refuses with 409 a host claiming to be master as itself when it is not the leader', async () => {
    const h3Key = await issueHostKey(app.apiKeys, 'h3', '2026-01-01T00:00:00.000Z');
    const res = await adjust({ master: 'h3', fencingToken: '99' }, { authorization: `Bearer ${h3Key}` });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('stale_master');
    expect(hostClock.synced).toBe(false);
  });
});

describe('adjustments from a referenced master are intersected (HostClock.refine)', () => {
  it('a loose referenced reading after a tight one keeps the tight bound and barely moves the clock', async () => {
    expect((await adjust({ deltaMs: 0, errorMs: 3, referenced: true })).status).toBe(200);
    expect((await adjust({ deltaMs: 1, errorMs: 8, referenced: true })).status).toBe(200);
    // [−3, 3] ∩ [−7, 9] = [−3, 3]: true time stands still, so the bound has not grown.
    expect(hostClock.pendingMs()).toBeCloseTo(0, 6);
    expect(hostClock.estimateErrorMs()).toBeCloseTo(3, 6);
  });

  it('without a reference (internal agreement, which the master may move) each adjustment is taken whole', async () => {
    expect((await adjust({ deltaMs: 0, errorMs: 3 })).status).toBe(200);
    expect((await adjust({ deltaMs: 1, errorMs: 8 })).status).toBe(200);
    expect(hostClock.pendingMs()).toBeCloseTo(1, 6);
    expect(hostClock.estimateErrorMs()).toBeCloseTo(8, 6);
  });
});
