/** API key records in memory, for in-process tests; meets the same contract as the etcd store. */
import { type ApiKeyRecord, apiKeyRecordSchema } from './api-key-record';
import { ApiKeyExistsError, type ApiKeyStore } from './api-key-store';

export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly records = new Map<string, ApiKeyRecord>();

  /** Starts with `seed` records (in-process tests issue their admin key before the app exists). */
  constructor(seed: ApiKeyRecord[] = []) {
    for (const record of seed) this.records.set(record.id, structuredClone(apiKeyRecordSchema.parse(record)));
  }

  async create(record: ApiKeyRecord, { replace = false }: { replace?: boolean } = {}): Promise<void> {
    if (!replace && this.records.has(record.id)) throw new ApiKeyExistsError(record.id);
    this.records.set(record.id, structuredClone(apiKeyRecordSchema.parse(record)));
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.records.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => structuredClone(r));
  }

  async revoke(id: string, at: string): Promise<ApiKeyRecord | undefined> {
    const record = this.records.get(id);
    if (!record) return undefined;
    if (!record.revokedAt) record.revokedAt = at;
    return structuredClone(record);
  }
}
