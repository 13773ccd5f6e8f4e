/**
 * Each function host's own API key, with only the `clock` scope: the time master sends Berkeley
 * adjustments (POST /time/adjust) to its peers with it. The key id is derived from the host id, so
 * a restarted host replaces its previous key instead of piling up records; the secret is new at
 * every start and lives only in the host's memory, so a key of a host that died is useless.
 */
import { createHash } from 'node:crypto';
import { type GeneratedApiKey, generateApiKey } from './api-key';
import type { ApiKeyStore } from './api-key-store';
import { issueApiKey } from './issue-api-key';

export function hostKeyId(hostId: string): string {
  return createHash('sha256').update(`host:${hostId}`).digest('hex').slice(0, 16);
}

/** Issues (or re-issues) the host's clock key; resolves to the key to send. */
export async function issueHostKey(store: ApiKeyStore, hostId: string, createdAt: string): Promise<string> {
  const fresh = generateApiKey();
  const id = hostKeyId(hostId);
  const generated: GeneratedApiKey = { ...fresh, id, key: `pay_${id}_${fresh.secret}` };
  const issued = await issueApiKey(
    store,
    { scopes: ['clock'], label: `host ${hostId} (clock adjustments)`, rateLimitPerSecond: 0 },
    createdAt,
    { generated, replace: true },
  );
  return issued.key;
}
