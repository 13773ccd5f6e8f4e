/**
 * The one way the system builds an etcd client. It fixes three pitfalls of the `etcd3` package:
 *  - no default call deadline: every unary call gets `callDeadlineMs`, so nothing waits forever;
 *  - retries: a failed call is retried on another member up to `attempts` times in all. The retry
 *    may resend a transaction that did commit; the ledger's commit path recognises its own earlier
 *    commit by a nonce (ledger/etcd/etcd-ledger.ts), so the retry is safe there;
 *  - a member that is down is skipped for `breakerCooldownMs` by a per-member circuit breaker, so
 *    requests are routed to the members that answer; with `routing`, a health probe also holds
 *    the breaker of an isolated or paused member open (endpoint-health.ts). etcd's NOSPACE refusal
 *    (RESOURCE_EXHAUSTED, "database space exceeded", which etcd3 marks recoverable) is an answer,
 *    not a member fault: it neither opens a breaker nor is retried, or a host's refused puts would
 *    stop its reads too. Likewise an answer over gRPC's message limit, and a call cancelled
 *    because its request was abandoned.
 * Streams (watch, lease keepalive) get no deadline: they are meant to stay open.
 *
 * With `tls`, the client speaks TLS to https:// endpoints and presents a client certificate; etcd
 * (run with --client-cert-auth) authenticates it as the user named by the certificate's CN, so no
 * password or token is ever sent (dev/cluster/certificates.ts, etcd-auth.ts).
 */
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, GRPCCancelledError, isRecoverableError } from 'etcd3';
import { isMessageTooLarge, isSpaceExceeded } from '../../ledger/etcd/bounded-etcd-call';
import type { EtcdEndpointRouting } from './endpoint-routing';

export interface EtcdClientOptions {
  /** Client URLs of every member, e.g. `['http://127.0.0.1:2379']`. Give all of them, for failover. */
  endpoints: string[];
  /** Deadline of one unary call to one member, in ms. Default 1500. */
  callDeadlineMs?: number;
  /** Attempts per call in all, each on a freshly chosen member. Default 3. */
  attempts?: number;
  /** How long a member that failed 3 calls in a row is skipped, in ms. Default 2000. */
  breakerCooldownMs?: number;
  /** Connect timeout, in ms. Default 2000. */
  dialTimeoutMs?: number;
  /** TLS credentials: the CA that signed the members' certificates, and this client's own. Default none (plain http). */
  tls?: EtcdTlsCredentials;
  /** Lets a health probe route calls away from unhealthy members (endpoint-health.ts). Default none. */
  routing?: EtcdEndpointRouting;
}

/**
 * Each field a PEM buffer, or the path of a PEM file (read once, here). Without cert and key the
 * client still verifies the members but presents no certificate (a secured etcd refuses it).
 */
export interface EtcdTlsCredentials {
  ca: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
}

/**
 * A failure that says something about the member that was asked, so another may do better. Not
 * one: NOSPACE, an answer over gRPC's message limit (every member gives the same), and a call we
 * cancelled ourselves because its request was abandoned (ledger/etcd/bounded-etcd-call.ts).
 */
const isMemberFault = (error: Error): boolean =>
  isRecoverableError(error) &&
  !isSpaceExceeded(error) &&
  !isMessageTooLarge(error) &&
  !(error instanceof GRPCCancelledError);

const pem = (source: Buffer | string): Buffer => (Buffer.isBuffer(source) ? source : readFileSync(source));

export function createEtcdClient({
  endpoints,
  callDeadlineMs = 1500,
  attempts = 3,
  breakerCooldownMs = 2000,
  dialTimeoutMs = 2000,
  tls,
  routing,
}: EtcdClientOptions): Etcd3 {
  if (endpoints.length === 0) throw new Error('at least one etcd endpoint is required');
  return new Etcd3({
    hosts: endpoints,
    ...(tls && {
      credentials: {
        rootCertificate: pem(tls.ca),
        ...(tls.cert && tls.key && { certChain: pem(tls.cert), privateKey: pem(tls.key) }),
      },
    }),
    dialTimeout: dialTimeoutMs,
    // grpc deadlines are absolute wall-clock dates; this is the one place that reads the system clock
    // for a purpose other than timestamps, and it must be the real one, not the synchronized clock.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callDeadlineMs }),
    faultHandling: {
      global: retry(handleWhen(isMemberFault), { maxAttempts: Math.max(0, attempts - 1) }),
      host: (endpoint) => {
        const breaker = circuitBreaker(handleWhen(isMemberFault), {
          halfOpenAfter: breakerCooldownMs,
          breaker: new ConsecutiveBreaker(3),
        });
        return routing ? routing.register(endpoint, breaker) : breaker;
      },
    },
  });
}
