/**
 * What the key store keeps about one API key, and the request-scoped principal built from it.
 *
 * Scopes:
 *  - `accounts`: the accounts the key acts for. It may create payments whose payer is one of them
 *    and read payments (and history) that involve one of them. `['*']` means every account (the
 *    local cluster's dev admin key, load generators).
 *  - `admin`: cluster endpoints (/cluster, /events, /metrics, /time/adjust), key management, and
 *    reading any payment. It does not by itself allow paying from an account, but it may mint a
 *    key that does: admin is all-powerful, by decision (docs/security.md, "Admin is all-powerful").
 *  - `clock`: the host-to-host Berkeley adjustment (POST /time/adjust) and nothing else; every
 *    function host holds one such key of its own (functions/auth/host-key.ts).
 */
import { z } from 'zod';
import { IDENTIFIER_PATTERN } from '../../ledger/payment';

export const ALL_ACCOUNTS = '*';
export const API_KEY_SCOPES = ['admin', 'clock'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const accountSchema = z
  .string()
  .refine((a) => a === ALL_ACCOUNTS || IDENTIFIER_PATTERN.test(a), 'an account id or "*"');

/** The fields a caller chooses when creating a key (POST /admin/keys, `npm run keys -- create`). */
export const apiKeyGrantSchema = z.strictObject({
  accounts: z.array(accountSchema).max(1000).default([]),
  scopes: z.array(z.enum(API_KEY_SCOPES)).max(API_KEY_SCOPES.length).default([]),
  label: z.string().max(128).optional(),
  /** Requests per second on each host; null = the host's default, 0 = unlimited. */
  rateLimitPerSecond: z.number().int().min(0).max(1_000_000).nullable().default(null),
});
export type ApiKeyGrant = z.infer<typeof apiKeyGrantSchema>;

export const apiKeyRecordSchema = apiKeyGrantSchema.extend({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  /** SHA-256 of the secret, hex (functions/auth/api-key.ts). The secret itself is never stored. */
  secretHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/** The operator's key of a local or test cluster: every account, admin, no rate limit. */
export const ADMIN_GRANT: Partial<ApiKeyGrant> = {
  accounts: [ALL_ACCOUNTS],
  scopes: ['admin'],
  label: 'cluster admin',
  rateLimitPerSecond: 0,
};

/** A record as listed to admins: everything but the hash. */
export function publicView({ secretHash: _hash, ...rest }: ApiKeyRecord): Omit<ApiKeyRecord, 'secretHash'> {
  return rest;
}

/** Who is calling, once their key has been verified: what every authorization decision reads. */
export interface Principal {
  keyId: string;
  accounts: ReadonlySet<string>;
  scopes: ReadonlySet<ApiKeyScope>;
  rateLimitPerSecond: number | null;
}

export function principalOf(record: ApiKeyRecord): Principal {
  return {
    keyId: record.id,
    accounts: new Set(record.accounts),
    scopes: new Set(record.scopes),
    rateLimitPerSecond: record.rateLimitPerSecond,
  };
}

export const hasScope = (p: Principal, scope: ApiKeyScope): boolean => p.scopes.has(scope);

/** May act for this account: pay from it, read its history. */
export const actsFor = (p: Principal, account: string): boolean =>
  p.accounts.has(ALL_ACCOUNTS) || p.accounts.has(account);

/**
 * The accounts whose payments this key may read, or undefined when it may read every payment (an
 * admin's key, or one acting for `*`): lookups by id are filtered by them before any cap.
 */
export const readableAccounts = (p: Principal): string[] | undefined =>
  hasScope(p, 'admin') || p.accounts.has(ALL_ACCOUNTS) ? undefined : [...p.accounts];

/** May read this payment: it involves one of the key's accounts, or the key is an admin's. */
export const mayRead = (p: Principal, payment: { payer: string; payee: string }): boolean =>
  hasScope(p, 'admin') || actsFor(p, payment.payer) || actsFor(p, payment.payee);
