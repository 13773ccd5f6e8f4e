/**
 * The authenticator's cache of records and verdicts, on a fake monotonic clock: an accepted key
 * is not read or hashed again within the cache TTL, a revocation is refused once the TTL has
 * passed, and a cached verdict never lets another secret for the same key id through.
 */
import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator } from '../../functions/auth/api-key-authenticator';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';

async function setup() {
  const store = new MemoryApiKeyStore();
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (id) => {
    reads += 1;
    return get(id);
  };
  let now = 0;
  const authenticator = new ApiKeyAuthenticator(store, { cacheTtlMs: 1000, now: () => now });
  const { key, record } = await issueApiKey(store, { accounts: ['alice'] }, '2026-01-01T00:00:00Z');
  return {
    store,
    authenticator,
    key,
    record,
    reads: () => reads,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ApiKeyAuthenticator cache', () => {
  it('reads a key once per TTL and keeps its verdict until a revocation is read', async () => {
    const t = await setup();
    const header = `Bearer ${t.key}`;
    const first = await t.authenticator.authenticate(header);
    expect(first.keyId).toBe(t.record.id);
    expect(await t.authenticator.authenticate(header)).toBe(first);
    expect(t.reads()).toBe(1);
    await t.store.revoke(t.record.id, '2026-01-01T00:00:01Z');
    t.advance(999);
    expect((await t.authenticator.authenticate(header)).keyId).toBe(t.record.id); // within the bound
    t.advance(1);
    await expect(t.authenticator.authenticate(header)).rejects.toThrow(/invalid or revoked/);
    expect(t.reads()).toBe(2);
  });

  it('never answers another secret for a cached key id from the verdict', async () => {
    const t = await setup();
    await t.authenticator.authenticate(`Bearer ${t.key}`);
    const forged = `${t.key.slice(0, -1)}${t.key.endsWith('A') ? 'B' : 'A'}`;
    await expect(t.authenticator.authenticate(`Bearer ${forged}`)).rejects.toThrow(/invalid or revoked/);
    expect((await t.authenticator.authenticate(`bearer  ${t.key}`)).keyId).toBe(t.record.id);
  });
});
