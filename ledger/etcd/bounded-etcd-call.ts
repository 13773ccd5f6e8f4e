/**
 * Bounds one etcd operation in time and turns store failures into QuorumUnavailableError (503),
 * which clients retry. Used by every etcd-backed store of request-path data (the ledger, the API
 * key store), so a slow or partitioned etcd gives a clear 503 within the deadline, never a hang.
 *
 * An operation given as a function gets an AbortSignal that fires at the deadline or when the
 * caller's own signal does (the HTTP request was abandoned): it stops issuing calls
 * (`signal.throwIfAborted()` between them) and passes `cancellableCall(signal)` to each, which
 * cancels the call in flight (issue 17 §4). The 503's message is stable; etcd's and gRPC's own
 * text stays in the error's cause, which the HTTP layer logs (issue 17 §7).
 */
import { type Etcd3, GRPCFailedPreconditionError, GRPCInvalidArgumentError } from 'etcd3';
import { PaymentError, QuorumUnavailableError, ResultTooLargeError, StorageFullError } from '../errors';

/** The message of every 503 an etcd failure turns into; what etcd said is its cause. */
export const STORE_UNAVAILABLE_MESSAGE = 'the ledger is unavailable; retry';

/** etcd's refusal of a write under its NOSPACE alarm ("mvcc: database space exceeded"): every member answers the same. */
export const isSpaceExceeded = (error: unknown): boolean =>
  error instanceof Error && /database space exceeded/.test(error.message);

/**
 * gRPC's refusal to receive an answer over its message limit (RESOURCE_EXHAUSTED, "Received message
 * larger than max"): the same request gets the same answer from every member, so it is no member fault.
 */
export const isMessageTooLarge = (error: unknown): boolean =>
  error instanceof Error && /larger than max/.test(error.message);

/** grpc-js call options, as the etcd3 client takes them per call. */
export type EtcdCallOptions = NonNullable<Parameters<Etcd3['kv']['range']>[1]>;
type Interceptor = NonNullable<EtcdCallOptions['interceptors']>[number];

const GRPC_CANCELLED = 1;

/**
 * Call options that cancel the call when `signal` aborts (at once if it already has): etcd3 1.1.2
 * takes no AbortSignal, but it passes grpc-js call options through, and an interceptor can cancel.
 */
export function cancellableCall(signal: AbortSignal | undefined): EtcdCallOptions | undefined {
  if (!signal) return undefined;
  const cancelOnAbort: Interceptor = (options, nextCall) => {
    const call = nextCall(options);
    const cancel = () => call.cancelWithStatus(GRPC_CANCELLED, 'the request was abandoned');
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    // grpc-js types an interceptor's result as its InterceptingCall class; nextCall's is one.
    return call as ReturnType<Interceptor>;
  };
  return { interceptors: [cancelOnAbort] };
}

const deadlineError = (what: string, limitMs: number) =>
  new QuorumUnavailableError(STORE_UNAVAILABLE_MESSAGE, {
    cause: new Error(`etcd did not answer the ${what} within ${limitMs} ms`),
  });

export async function boundedEtcdCall<T>(
  what: string,
  operation: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  limitMs: number,
  { signal }: { signal?: AbortSignal } = {},
): Promise<T> {
  if (typeof operation !== 'function' && !signal) return raceDeadline(what, operation, limitMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineError(what, limitMs)), limitMs);
  const onCallerAbort = () =>
    controller.abort(
      new QuorumUnavailableError(STORE_UNAVAILABLE_MESSAGE, {
        cause: new Error(`the ${what} was abandoned by its caller`),
      }),
    );
  if (signal?.aborted) onCallerAbort();
  else signal?.addEventListener('abort', onCallerAbort, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    const fail = () => reject(controller.signal.reason);
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  stopped.catch(() => {});
  try {
    const running = typeof operation === 'function' ? operation(controller.signal) : operation;
    return await Promise.race([running, stopped]);
  } catch (error) {
    throw translateStoreError(what, controller.signal.aborted ? controller.signal.reason : error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * The same bound for an operation already running, with nothing to cancel: a timer and a race,
 * without the AbortController and listeners, which cost ~1 % of a host's CPU on the commit path
 * (every payment passes here once; docs/performance.md).
 */
async function raceDeadline<T>(what: string, operation: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlineError(what, limitMs)), limitMs);
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
 * NOSPACE alarm, unavailable otherwise, always with a stable message (etcd's text is the cause).
 * An answer over gRPC's message limit is result_too_large, which a retry cannot cure. A request
 * etcd refuses as malformed is our bug, not the client's and not an outage, so it stays an
 * internal error.
 */
export function translateStoreError(what: string, error: unknown): unknown {
  if (error instanceof PaymentError) return error;
  if (isSpaceExceeded(error)) return new StorageFullError(`etcd refused the ${what}: NOSPACE alarm raised`);
  if (isMessageTooLarge(error)) return new ResultTooLargeError(what, { cause: error });
  if (error instanceof GRPCInvalidArgumentError || error instanceof GRPCFailedPreconditionError) return error;
  return new QuorumUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error });
}
