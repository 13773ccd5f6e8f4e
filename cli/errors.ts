/**
 * payctl's exit codes, one closed table, and the error that carries one. Scripts branch on the
 * code, people read the message.
 */
export const EXIT_CODES = {
  ok: 0,
  /** The API refused the request (invalid input, idempotency conflict). */
  refused: 1,
  /** Bad command line. */
  usage: 2,
  /** The payment (or member, host) does not exist. */
  notFound: 3,
  /** No host answered, or the cluster has no etcd quorum (503). Retry later. */
  unavailable: 4,
  /** The feature is not deployed on this cluster (the endpoint answered 404, the script is absent). */
  notAvailable: 5,
  /** No local cluster state: `npm start` is not running from this data directory. */
  noLocalCluster: 6,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
