/**
 * Bounds one etcd operation in time and turns store failures into QuorumUnavailableError (503),
 * which clients retry. Used by every etcd-backed store of request-path data (the ledger, the API
 * key store), so a slow or partitioned etcd gives a clear 503 within the deadline, never a hang.
 */
import { GRPCFailedPreconditionError, GRPCInvalidArgumentError } from 'etcd3';
import { PaymentError, QuorumUnavailableError } from '../errors';

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
 * Store failures become 503s, which clients retry with the same id; a request etcd refuses as
 * malformed is our bug, not the client's and not an outage, so it stays an internal error.
 */
export function translateStoreError(what: string, error: unknown): unknown {
  if (error instanceof PaymentError) return error;
  if (error instanceof GRPCInvalidArgumentError || error instanceof GRPCFailedPreconditionError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new QuorumUnavailableError(`etcd could not complete the ${what}: ${reason}`, { cause: error });
}
