/**
 * Where API key records live. The etcd store (etcd-api-key-store.ts) is the real one, shared by
 * every host; the in-memory one (memory-api-key-store.ts) serves in-process tests. Both pass the
 * contract suite in test/contracts/api-key-store-contract.ts.
 */
import type { ApiKeyRecord } from './api-key-record';

export interface ApiKeyStore {
  /**
   * Stores a new record. Throws if a record with that id exists, unless `replace` is set (a host
   * re-issuing its own clock key on restart, functions/auth/host-key.ts).
   */
  create(record: ApiKeyRecord, options?: { replace?: boolean }): Promise<void>;
  /** The record, revoked or not, or undefined. Read linearizably: a revocation is seen at once. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Every record, ordered by id. */
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked at `at` (kept for audit); undefined when no such key. Idempotent. */
  revoke(id: string, at: string): Promise<ApiKeyRecord | undefined>;
}

export class ApiKeyExistsError extends Error {
  constructor(id: string) {
    super(`API key ${id} already exists`);
  }
}
