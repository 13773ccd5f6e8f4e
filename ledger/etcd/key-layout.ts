/**
 * The etcd key layout of the ledger: every key the system writes is built here and nowhere else.
 *
 * A payment's identity is (payer, id): two payers may use the same id, each for a payment of its
 * own, and replay and conflict are decided within one payer.
 *
 *   <root>/payments/<id>/<payer>         one record per (payer, id) (the dedup key)
 *       value: StoredRecord JSON (the payment's fields, committedAt, host, the position inside
 *              its transaction, and the commit attempt's nonce); the key's create_revision is
 *              the commit revision, from which `sequence` is derived (ledger/etcd/sequence.ts).
 *              The id comes first so that the prefix range `<root>/payments/<id>/` holds every
 *              payment with that id, whoever paid it (PaymentLedger.findById).
 *   <root>/accounts/<account>/<id>/<payer>  one index entry per side (payer and payee)
 *       value: IndexEntry JSON ({ position, committedAt }); written in the same transaction as
 *              the record, so it has the same create_revision. History is a prefix range over
 *              one account, sorted by create_revision, paged with min_create_revision. The
 *              payer is part of the key, so an account that paid (A, x) and received (C, x)
 *              holds two entries, `<id>/A` and `<id>/C`, that cannot overwrite each other.
 *
 *
 * Coordination keys (coordination/cluster/membership.ts, leader-election.ts, ledger-maintenance.ts):
 *   <root>/hosts/<hostId>                one per live function host, attached to its membership
 *       value: HostRecord JSON ({ id, url, since, version }); the lease's expiry deletes it.
 *   <root>/election/leader/<leaseId>     etcd3 Election campaign keys, one per candidate, on the
 *       candidate's lease; the lowest create_revision leads, and that revision is its fencing token.
 *   <root>/meta/retention                compaction retention policy JSON (ledger-maintenance.ts)
 *   <root>/meta/maintenance              the leader's last maintenance record, written fenced
 *   <root>/events/log/<host>/<hlc>/<seq> one cluster event (coordination/events/etcd-event-store.ts); hlc
 *                                        is fixed-width, so each host's events sort in HLC order
 *   <root>/events/marks/<host>           the host's event shipping mark (HostMark JSON)
 *   <root>/auth/keys/<keyId>             one API key record (functions/auth/api-key-record.ts):
 *                                        scopes and the SHA-256 of the secret, never the secret
 *
 * Ids and account names match [A-Za-z0-9._:-]{1,128} (ledger/payment.ts), so they never
 * contain '/' and one account's prefix never captures another's ('shop-1/' vs 'shop-10/').
 * Records are never overwritten or deleted by the commit path: a key that exists is final.
 */

/**
 * Default root; one etcd cluster can host several ledgers under different roots. v2 keys records
 * by (id, payer); v1 keyed them by id alone, and a v2 host does not read v1 data.
 */
export const DEFAULT_ROOT = '/pay/v2';

export interface KeyLayout {
  /** Key of the record of one payment, identified by its id and its payer. */
  payment(id: string, payer: string): string;
  /** Prefix of the records of every payment with this id, across payers. */
  paymentsWithId(id: string): string;
  /** Prefix of every payment record. */
  paymentsPrefix(): string;
  /** Index key, under `account`, for the payment (payer, id); `account` is its payer or its payee. */
  accountEntry(account: string, id: string, payer: string): string;
  /** Prefix of one account's index. */
  accountPrefix(account: string): string;
  /** Key read by the readiness probe: a linearizable read of it needs a quorum. */
  readinessProbe(): string;
  /** Membership key of one function host. */
  host(id: string): string;
  /** Prefix of every membership key. */
  hostsPrefix(): string;
  /** Namespace prefix handed to etcd3 (`client.namespace(...)`) under which the election lives. */
  coordinationNamespace(): string;
  /** The compaction retention policy. */
  retentionPolicy(): string;
  /** The leader's last maintenance record. */
  maintenanceRecord(): string;
  /** Key of one cluster event. */
  event(host: string, hlc: string, seq: number): string;
  /** Prefix of one host's event stream. */
  eventsOfHost(host: string): string;
  /** Key of one host's event shipping mark. */
  eventMark(host: string): string;
  /** Prefix of every shipping mark. */
  eventMarksPrefix(): string;
  /** Record of one API key. */
  apiKey(id: string): string;
  /** Prefix of every API key record. */
  apiKeysPrefix(): string;
}

/** Name of the host leader election inside the coordination namespace: keys `election/<name>/<leaseId>`. */
export const LEADER_ELECTION_NAME = 'leader';

export function keyLayout(root: string = DEFAULT_ROOT): KeyLayout {
  const base = root.replace(/\/+$/, '');
  return {
    payment: (id, payer) => `${base}/payments/${id}/${payer}`,
    paymentsWithId: (id) => `${base}/payments/${id}/`,
    paymentsPrefix: () => `${base}/payments/`,
    accountEntry: (account, id, payer) => `${base}/accounts/${account}/${id}/${payer}`,
    accountPrefix: (account) => `${base}/accounts/${account}/`,
    readinessProbe: () => `${base}/meta/ready-probe`,
    host: (id) => `${base}/hosts/${id}`,
    hostsPrefix: () => `${base}/hosts/`,
    coordinationNamespace: () => `${base}/`,
    retentionPolicy: () => `${base}/meta/retention`,
    maintenanceRecord: () => `${base}/meta/maintenance`,
    event: (host, hlc, seq) => `${base}/events/log/${host}/${hlc}/${String(seq).padStart(12, '0')}`,
    eventsOfHost: (host) => `${base}/events/log/${host}/`,
    eventMark: (host) => `${base}/events/marks/${host}`,
    eventMarksPrefix: () => `${base}/events/marks/`,
    apiKey: (id) => `${base}/auth/keys/${id}`,
    apiKeysPrefix: () => `${base}/auth/keys/`,
  };
}

/** The exclusive end of a prefix range: the prefix with its last byte incremented. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The payment an account index entry points to, from its key (`<accountPrefix><id>/<payer>`). */
export function parseAccountEntry(key: string): { id: string; payer: string } {
  const payerAt = key.lastIndexOf('/');
  const idAt = key.lastIndexOf('/', payerAt - 1);
  return { id: key.slice(idAt + 1, payerAt), payer: key.slice(payerAt + 1) };
}

/** The last path segment of a key: the host id of a membership key. */
export function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
