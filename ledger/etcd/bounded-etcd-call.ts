/**
 * Bounds one etcd operation in time and turns store failures into QuorumUnavailableError (503),
 * which clients retry. Used by every etcd-backed store of request-path data (the ledger, the API
 * key store), so a slow or partitioned etcd gives a clear 503 within the deadline, never a hang.
 */
import { GRPCFailedPreconditionError, GRPCInvalidArgumentError } from 'etcd3';
import { PaymentError, QuorumUnavailableError, StorageFullError } from '../errors';

/** etcd's refusal of a write under its NOSPACE alarm ("mvcc: database space exceeded"): every member answers the same. */
export const isSpaceExceeded = (error: unknown): boolean =>
  error instanceof Error && /database space exceeded/.test(error.message);

export async function boundedEtcdCall<T>(what: string, operation: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QuorumUnavailableError(`etcd did not answer the ${what} within ${limitMs} ms`)),
      limitMs,
    );
  });
  try {
    return await Promise.race([operation, deadline]);
  } catch (error) {
    throw translateStoreError(what, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Store failures become 503s, which clients retry with the same id: storage_full under etcd's
 * NOSPACE alarm, unavailable otherwise. A request etcd refuses as malformed is our bug, not the
 * client's and not an outage, so it stays an internal error.
 */
export function translateStoreError(what: string, error: unknown): unknown {
  if (error instanceof PaymentError) return error;
  if (isSpaceExceeded(error)) return new StorageFullError(`etcd refused the ${what}: NOSPACE alarm raised`);
  if (error instanceof GRPCInvalidArgumentError || error instanceof GRPCFailedPreconditionError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new QuorumUnavailableError(`etcd could not complete the ${what}: ${reason}`, { cause: error });
}
