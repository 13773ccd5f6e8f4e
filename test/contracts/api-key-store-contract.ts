/**
 * The contract every ApiKeyStore meets (functions/auth/api-key-store.ts), run against the
 * in-memory store and the etcd store by test/cluster/api-key-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKeyStore } from '../../functions/auth/api-key-store';
import { ApiKeyExistsError } from '../../functions/auth/api-key-store';
import { testKey } from '../support/test-app';

export function apiKeyStoreContract(name: string, makeStore: () => Promise<ApiKeyStore> | ApiKeyStore): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    it('returns what was created, and undefined for an unknown id', async () => {
      const store = await makeStore();
      const { record } = testKey({ accounts: ['shop-1', 'shop-2'], scopes: ['admin'], label: 'ops' });
      await store.create(record);
      expect(await store.get(record.id)).toEqual(record);
      expect(await store.get('0123456789abcdef')).toBeUndefined();
    });

    it('refuses to create an id twice unless asked to replace it', async () => {
      const store = await makeStore();
      const first = testKey({ accounts: ['a'] }).record;
      await store.create(first);
      const second = { ...testKey({ accounts: ['b'] }).record, id: first.id };
      await expect(store.create(second)).rejects.toBeInstanceOf(ApiKeyExistsError);
      expect((await store.get(first.id))?.accounts).toEqual(['a']);
      await store.create(second, { replace: true });
      expect((await store.get(first.id))?.accounts).toEqual(['b']);
    });

    it('lists every record ordered by id', async () => {
      const store = await makeStore();
      const records = [testKey().record, testKey().record, testKey().record];
      for (const r of records) await store.create(r);
      const listed = (await store.list()).filter((r) => records.some((x) => x.id === r.id));
      expect(listed.map((r) => r.id)).toEqual(records.map((r) => r.id).sort());
    });

    it('revokes once, keeps the record, and is idempotent', async () => {
      const store = await makeStore();
      const { record } = testKey({ accounts: ['a'] });
      await store.create(record);
      const revoked = await store.revoke(record.id, '2026-02-02T00:00:00.000Z');
      expect(revoked).toEqual({ ...record, revokedAt: '2026-02-02T00:00:00.000Z' });
      expect(await store.revoke(record.id, '2026-03-03T00:00:00.000Z')).toEqual(revoked);
      expect(await store.get(record.id)).toEqual(revoked);
      expect(await store.revoke('0123456789abcdef', '2026-02-02T00:00:00.000Z')).toBeUndefined();
    });
  });
}
