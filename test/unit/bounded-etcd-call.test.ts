/**
 * boundedEtcdCall (ledger/etcd/bounded-etcd-call.ts) in both of its forms: an operation already
 * running (a promise: the commit path's timer-and-race) and one it starts with a signal it can
 * cancel. Each form gives the same errors: a 503 at the deadline with the reason as its cause,
 * etcd's NOSPACE as storage_full, and the operation's own answer when it comes first.
 */
import { describe, expect, it } from 'vitest';
import { QuorumUnavailableError, StorageFullError } from '../../ledger/errors';
import { boundedEtcdCall, STORE_UNAVAILABLE_MESSAGE } from '../../ledger/etcd/bounded-etcd-call';

const never = () => new Promise<never>(() => {});
const nospace = () => Promise.reject(new Error('etcdserver: mvcc: database space exceeded'));

const forms = {
  promise: <T>(make: () => Promise<T>) => make(),
  function:
    <T>(make: () => Promise<T>) =>
    (_signal: AbortSignal) =>
      make(),
};

describe.each(Object.entries(forms))('boundedEtcdCall, operation given as a %s', (_name, form) => {
  it('answers with the operation when it comes first', async () => {
    await expect(
      boundedEtcdCall(
        'read',
        form(() => Promise.resolve(7)),
        1000,
      ),
    ).resolves.toBe(7);
  });

  it('deadline: a silent etcd is a 503 with a stable message, the reason as its cause', async () => {
    const started = Date.now();
    const error = await boundedEtcdCall('commit', form(never), 30).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect((error as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE);
    expect(((error as Error).cause as Error).message).toBe('etcd did not answer the commit within 30 ms');
  });

  it('NOSPACE from etcd is storage_full', async () => {
    await expect(boundedEtcdCall('commit', form(nospace), 1000)).rejects.toBeInstanceOf(StorageFullError);
  });
});

describe('boundedEtcdCall with a caller signal', () => {
  it("aborts the operation's signal when the caller gives up, and answers 503", async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = boundedEtcdCall(
      'history',
      (signal) => {
        seen = signal;
        return never();
      },
      1000,
      { signal: caller.signal },
    );
    caller.abort();
    await expect(call).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(seen?.aborted).toBe(true);
  });
});
