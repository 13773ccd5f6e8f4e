/**
 * Verifies `Authorization: Bearer <key>` against the key store, with a short per-key cache so a
 * busy host does not read etcd on every request.
 *
 * The cache is what bounds revocation: a record (or the fact that a key is unknown) is trusted
 * for at most `cacheTtlMs` after it was read, so a revoked key stops working on every host within
 * `cacheTtlMs` plus one store read. The default (1 s) keeps that well inside the 2 s promise.
 * When the store cannot answer, a key whose entry has expired is refused with 503: it fails closed.
 *
 * The verdict is cached too: an accepted `Authorization` header maps to its principal and to the
 * cache entry it was checked against, so a key's next requests skip parsing, the SHA-256, the
 * constant-time compare and building the principal (about 2 % of a host's CPU per payment,
 * docs/performance.md). A verdict is trusted only while its entry is, so revocation is bounded
 * exactly as before.
 */
import { UnauthorizedError } from '../http-errors';
import { bearerToken, parseApiKey, secretMatches } from './api-key';
import { type ApiKeyRecord, type Principal, principalOf } from './api-key-record';
import type { ApiKeyStore } from './api-key-store';

export interface ApiKeyAuthenticatorOptions {
  /** How long a read record is trusted, ms; the bound on revocation delay. Default 1000. */
  cacheTtlMs?: number;
  /** Most cached keys; beyond it the oldest entry is dropped (a flood of made-up ids). Default 10000. */
  maxCachedKeys?: number;
  /** Monotonic milliseconds. Default performance.now (not the synchronized clock: this is a duration). */
  now?: () => number;
}

interface CacheEntry {
  readAt: number;
  record: Promise<ApiKeyRecord | undefined>;
}

/** An accepted Authorization header: its principal, and the entry whose record it was checked against. */
interface Verdict {
  entry: CacheEntry;
  principal: Principal;
}

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly cacheTtlMs: number;
  private readonly maxCachedKeys: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ApiKeyStore,
    {
      cacheTtlMs = 1000,
      maxCachedKeys = 10_000,
      now = () => performance.now(),
    }: ApiKeyAuthenticatorOptions = {},
  ) {
    this.cacheTtlMs = cacheTtlMs;
    this.maxCachedKeys = maxCachedKeys;
    this.now = now;
  }

  /**
   * The caller's principal; throws UnauthorizedError (401) or QuorumUnavailableError (503).
   * `beforeStoreRead` runs only when the key's record must be read from the store (not cached), and
   * may refuse the request before that read (functions/auth/failed-auth-limiter.ts).
   */
  async authenticate(
    authorization: string | undefined,
    beforeStoreRead?: () => Promise<void>,
  ): Promise<Principal> {
    const known = authorization === undefined ? undefined : this.verdicts.get(authorization);
    if (known && this.now() - known.entry.readAt < this.cacheTtlMs) return known.principal;
    const token = bearerToken(authorization);
    const parsed = token === undefined ? undefined : parseApiKey(token);
    if (!parsed) throw new UnauthorizedError();
    if (beforeStoreRead && !this.cached(parsed.id)) await beforeStoreRead();
    const entry = this.entry(parsed.id);
    const record = await entry.record;
    // One message for unknown, wrong secret and revoked alike: a prober learns nothing.
    if (!record || record.revokedAt || !secretMatches(parsed.secret, record.secretHash)) {
      throw new UnauthorizedError('API key is invalid or revoked');
    }
    const principal = principalOf(record);
    this.verdicts.delete(authorization!);
    this.verdicts.set(authorization!, { entry, principal });
    if (this.verdicts.size > this.maxCachedKeys) this.verdicts.delete(this.verdicts.keys().next().value!);
    return principal;
  }

  private cached(id: string): CacheEntry | undefined {
    const entry = this.cache.get(id);
    return entry && this.now() - entry.readAt < this.cacheTtlMs ? entry : undefined;
  }

  private entry(id: string): CacheEntry {
    const now = this.now();
    const cached = this.cached(id);
    if (cached) return cached;
    // Concurrent requests with one key share one read (the promise is cached, not just its value).
    const record = this.store.get(id);
    const entry: CacheEntry = { readAt: now, record };
    this.cache.delete(id);
    this.cache.set(id, entry);
    // A failed read is not cached: the next request tries the store again.
    record.catch(() => {
      if (this.cache.get(id) === entry) this.cache.delete(id);
    });
    if (this.cache.size > this.maxCachedKeys) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}
