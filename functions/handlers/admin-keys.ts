/**
 * Key management for admins (admin-only routes of the route table, functions/routes.ts):
 *   POST   /admin/keys      create; 201 with the key, shown this once, and its record
 *   GET    /admin/keys      list, without secrets or hashes
 *   DELETE /admin/keys/:id  revoke; effective on every host within the authenticator's cache TTL
 * The same operations run from a shell with `npm run keys` (cli/keys.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { isoTimestamp } from '../../coordination/clock/clock';
import { PaymentError } from '../../ledger/errors';
import { type ApiKeyGrant, publicView } from '../auth/api-key-record';
import type { ApiKeyStore } from '../auth/api-key-store';
import { issueApiKey } from '../auth/issue-api-key';
import type { FunctionDeps } from '../deps';
import { principal } from '../middleware/require-api-key';
import { requestLog } from '../observability/logger';
import { validated } from '../validation';

export const keyIdParam = z.string().regex(/^[0-9a-f]{16}$/, 'a key id is 16 hex characters');

export function createApiKey({ clock }: FunctionDeps, store: ApiKeyStore) {
  return async (c: Context): Promise<Response> => {
    // Validated by the route table (functions/routes.ts): apiKeyGrantSchema.
    const grant = validated<ApiKeyGrant>(c, 'json');
    const issued = await issueApiKey(store, grant, isoTimestamp(clock));
    requestLog(c).info({ keyId: issued.record.id, by: principal(c).keyId }, 'API key created');
    return c.json({ key: issued.key, ...publicView(issued.record) }, 201);
  };
}

export function listApiKeys(store: ApiKeyStore) {
  return async (c: Context): Promise<Response> => c.json({ keys: (await store.list()).map(publicView) });
}

export function revokeApiKey({ clock }: FunctionDeps, store: ApiKeyStore) {
  return async (c: Context): Promise<Response> => {
    const { id } = validated<{ id: string }>(c, 'param');
    const record = await store.revoke(id, isoTimestamp(clock));
    if (!record) throw new PaymentError('not_found', `API key ${id} not found`);
    requestLog(c).info({ keyId: id, by: principal(c).keyId }, 'API key revoked');
    return c.json(publicView(record));
  };
}
