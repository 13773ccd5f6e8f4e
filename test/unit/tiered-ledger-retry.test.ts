/**
 * TieredLedger's retry after an archival changed the archived-id summary (ledger/tiered-ledger.ts),
 * over scripted fakes of its hot tier and summary: every attempt of one commit carries the same
 * nonce, so a first attempt that did commit (its transaction sent twice by etcd3, the resend refused
 * on the new bucket version) is recognised as this request's own write, not answered as a replay.
 */
import { describe, expect, it } from 'vitest';
import type { PaymentArchive } from '../../ledger/archive/payment-archive';
import { ArchivedIdsChangedError } from '../../ledger/errors';
import type { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import type { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import type { CommitOutcome } from '../../ledger/ledger';
import { TieredLedger } from '../../ledger/tiered-ledger';

const intent = { id: 'p-1', payer: 'acct-1', payee: 'acct-2', amount: 100, currency: 'EUR' };
const context = { host: 'h1', committedAt: '2026-12-01T00:00:00.000Z' };
const check = { mayBeArchived: false, guard: { key: '/bucket/7', modRevision: '5' } };

describe('TieredLedger commit retry', () => {
  it('retry-new-nonce: a commit retried after the summary changed keeps its nonce', async () => {
    const nonces: (string | undefined)[] = [];
    const hot = {
      commit: async (_i: unknown, _c: unknown, _g: unknown, nonce?: string): Promise<CommitOutcome> => {
        nonces.push(nonce);
        if (nonces.length === 1) throw new ArchivedIdsChangedError();
        return { kind: 'committed', payment: { ...intent, ...context, sequence: 1000 } };
      },
    } as unknown as EtcdLedger;
    const archivedIds = {
      check: async () => check,
      confirmedCheck: async () => check,
    } as unknown as ArchivedIdCache;
    const archive = { get: async () => undefined } as unknown as PaymentArchive;
    const ledger = new TieredLedger({ hot, archive, archivedIds });
    const outcome = await ledger.commit(intent, context);
    expect(outcome.kind).toBe('committed');
    expect(nonces).toHaveLength(2);
    expect(nonces[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(nonces[1]).toBe(nonces[0]);
  });
});
