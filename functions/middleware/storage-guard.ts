/**
 * Refuses new payments while the quota guard (coordination/cluster/quota-guard.ts) finds etcd's
 * database past its high-water mark or a NOSPACE alarm raised: 503 storage_full with Retry-After,
 * before the body is read, so nothing reaches etcd. Reads pass: they write nothing.
 */
import type { MiddlewareHandler } from 'hono';
import type { StorageReport } from '../../coordination/cluster/quota-guard';
import { StorageFullError } from '../../ledger/errors';
import type { Metrics } from '../observability/metrics';

export function storageGuard(storage: () => StorageReport, metrics?: Metrics): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const { full, reason } = storage();
      if (full) {
        metrics?.shedRequests.inc({ reason: 'storage_full' });
        throw new StorageFullError(reason ?? 'etcd storage is full');
      }
    }
    await next();
  };
}
