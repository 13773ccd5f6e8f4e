/**
 * The HTTP app for in-process tests (`app.request`, as Hono's own tests do), over an in-memory key
 * store that holds one admin key acting for every account. `request` sends that key unless the
 * test sets its own Authorization header (or `authorization: ''` to send none), so tests about
 * payments read as before and tests about keys say exactly what they send.
 */
import { HostClock } from '../../coordination/clock/clock';
import { HybridClock } from '../../coordination/clock/hlc';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import { MemoryEventStore } from '../../coordination/events/event-store';
import { type AppOptions, createApp } from '../../functions/app';
import { generateApiKey } from '../../functions/auth/api-key';
import { ALL_ACCOUNTS, type ApiKeyGrant, type ApiKeyRecord } from '../../functions/auth/api-key-record';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';

export type TestApp = ReturnType<typeof createApp> & { adminKey: string; apiKeys: MemoryApiKeyStore };

/** A key record and its secret, for seeding a test's store. */
export function testKey(grant: Partial<ApiKeyGrant> = {}): { key: string; record: ApiKeyRecord } {
  const generated = generateApiKey();
  return {
    key: generated.key,
    record: {
      accounts: [],
      scopes: [],
      rateLimitPerSecond: null,
      ...grant,
      id: generated.id,
      secretHash: generated.secretHash,
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  };
}

export function createTestApp(
  options: Omit<AppOptions, 'apiKeys'> & { apiKeys?: MemoryApiKeyStore },
): TestApp {
  const admin = testKey({ accounts: [ALL_ACCOUNTS], scopes: ['admin'], rateLimitPerSecond: 0 });
  const apiKeys = options.apiKeys ?? new MemoryApiKeyStore();
  void apiKeys.create(admin.record);
  const app = createApp({ ...options, apiKeys });
  const request = app.request.bind(app);
  const withAdminKey: typeof app.request = (input, init, ...rest) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${admin.key}`);
    else if (headers.get('authorization') === '') headers.delete('authorization');
    return request(input, { ...init, headers }, ...rest);
  };
  return Object.assign(app, { request: withAdminKey, adminKey: admin.key, apiKeys });
}

/** A cluster of one registered host and no peers: with it the app mounts /cluster and /hosts. */
export function quietCluster(selfId: string): ClusterStatusSource {
  return {
    selfId,
    hosts: () => [],
    leader: () => undefined,
    isLeader: () => false,
    registered: () => true,
    etcdMembers: async () => [],
  };
}

/** Clock deps over the system clock: with them the app mounts /time, /time/adjust and /events. */
export function testClocks() {
  const hostClock = new HostClock();
  return { hostClock, hlc: new HybridClock({ clock: hostClock }), eventStore: new MemoryEventStore() };
}
