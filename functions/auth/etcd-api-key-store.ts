/**
 * API key records in etcd, so every host sees a key the moment it is created or revoked:
 *
 *   <root>/auth/keys/<keyId>   one API key record (functions/auth/api-key-record.ts): scopes and
 *                              the SHA-256 of the secret, never the secret
 *
 * under the ledger's root (ledger/etcd/key-layout.ts). Reads are linearizable; every call is bounded by
 * `deadlineMs` and a failure is a 503 (QuorumUnavailableError), so authentication fails closed.
 */
import type { Etcd3 } from 'etcd3';
import { boundedEtcdCall } from '../../ledger/etcd/bounded-etcd-call';
import { DEFAULT_ROOT, keyBase } from '../../ledger/etcd/key-layout';
import { type ApiKeyRecord, apiKeyRecordSchema } from './api-key-record';
import { ApiKeyExistsError, type ApiKeyStore } from './api-key-store';

export interface EtcdApiKeyStoreOptions {
  /** Key root shared with the ledger. Default DEFAULT_ROOT. */
  root?: string;
  /** Bound on one store operation, retries included, ms. Default 5000. */
  deadlineMs?: number;
}

export class EtcdApiKeyStore implements ApiKeyStore {
  private readonly keys: { apiKey(id: string): string; apiKeysPrefix(): string };
  private readonly deadlineMs: number;

  constructor(
    private readonly client: Etcd3,
    { root = DEFAULT_ROOT, deadlineMs = 5000 }: EtcdApiKeyStoreOptions = {},
  ) {
    const prefix = `${keyBase(root)}/auth/keys/`;
    this.keys = { apiKey: (id) => `${prefix}${id}`, apiKeysPrefix: () => prefix };
    this.deadlineMs = deadlineMs;
  }

  async create(record: ApiKeyRecord, { replace = false }: { replace?: boolean } = {}): Promise<void> {
    const key = this.keys.apiKey(record.id);
    const value = JSON.stringify(apiKeyRecordSchema.parse(record));
    if (replace) {
      await boundedEtcdCall('API key write', this.client.put(key).value(value).exec(), this.deadlineMs);
      return;
    }
    const result = await boundedEtcdCall(
      'API key write',
      this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(value)).commit(),
      this.deadlineMs,
    );
    if (!result.succeeded) throw new ApiKeyExistsError(record.id);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const text = await boundedEtcdCall(
      'API key read',
      this.client.get(this.keys.apiKey(id)).string(),
      this.deadlineMs,
    );
    return text === null ? undefined : apiKeyRecordSchema.parse(JSON.parse(text));
  }

  async list(): Promise<ApiKeyRecord[]> {
    const response = await boundedEtcdCall(
      'API key listing',
      this.client.getAll().prefix(this.keys.apiKeysPrefix()).sort('Key', 'Ascend').exec(),
      this.deadlineMs,
    );
    return response.kvs.map((kv) => apiKeyRecordSchema.parse(JSON.parse(kv.value.toString())));
  }

  async revoke(id: string, at: string): Promise<ApiKeyRecord | undefined> {
    const key = this.keys.apiKey(id);
    // Compare-and-swap on the record's mod revision: a concurrent revoke (or a host re-issuing its
    // clock key) is read again rather than overwritten with a stale copy.
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await boundedEtcdCall('API key read', this.client.get(key).exec(), this.deadlineMs);
      const kv = response.kvs[0];
      if (!kv) return undefined;
      const record = apiKeyRecordSchema.parse(JSON.parse(kv.value.toString()));
      if (record.revokedAt) return record;
      const revoked = { ...record, revokedAt: at };
      const result = await boundedEtcdCall(
        'API key revocation',
        this.client
          .if(key, 'Mod', '==', kv.mod_revision)
          .then(this.client.put(key).value(JSON.stringify(revoked)))
          .commit(),
        this.deadlineMs,
      );
      if (result.succeeded) return revoked;
    }
    throw new Error(`API key ${id} kept changing while being revoked`);
  }
}
