/**
 * Creating a key: the one path used by POST /admin/keys, `npm run keys -- create`, `npm start`'s dev
 * admin key and the test clusters. The secret exists only in the returned `key`; the store keeps
 * its hash.
 */
import { type GeneratedApiKey, generateApiKey } from './api-key';
import { type ApiKeyGrant, type ApiKeyRecord, apiKeyGrantSchema } from './api-key-record';
import type { ApiKeyStore } from './api-key-store';

export interface IssuedApiKey {
  /** The whole key, `pay_<id>_<secret>`: shown once, never stored. */
  key: string;
  record: ApiKeyRecord;
}

export async function issueApiKey(
  store: ApiKeyStore,
  grant: Partial<ApiKeyGrant>,
  createdAt: string,
  { generated = generateApiKey(), replace = false }: { generated?: GeneratedApiKey; replace?: boolean } = {},
): Promise<IssuedApiKey> {
  const record: ApiKeyRecord = {
    ...apiKeyGrantSchema.parse(grant),
    id: generated.id,
    secretHash: generated.secretHash,
    createdAt,
  };
  await store.create(record, { replace });
  return { key: generated.key, record };
}
