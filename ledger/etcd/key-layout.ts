/**
 * The etcd key layout of the ledger: every key of payments and their index is built here and nowhere else.
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
 *   <root>/archive/ids/<bucket>          version of one bucket of the archived-id summary
 *       value: JSON { levels, ids }; rewritten by every archival that adds ids to the bucket, so
 *              its mod_revision is what a commit transaction compares (ledger/tiered-ledger.ts).
 *   <root>/archive/ids/<bucket>/<level>  one Bloom filter of that bucket (ledger/archive/archived-ids.ts)
 *   <root>/archive/through               JSON { sequence }: every payment up to it is in the archive,
 *              and every payment after it is still in etcd.
 *
 * The keys of membership, the leader election, maintenance and the event log are laid out in
 * coordination/etcd/key-layout.ts, and those of API keys in functions/auth/etcd-api-key-store.ts,
 * under the same root.
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
  /** Prefix of one account's index entries for one payment id, one per payer (FindByIdOptions.accounts). */
  accountEntriesWithId(account: string, id: string): string;
  /** Key read by the readiness probe: a linearizable read of it needs a quorum. */
  readinessProbe(): string;
  /** Prefix of the whole archived-id summary: every bucket's version key and filters. */
  archivedIdsPrefix(): string;
  /** Version key of one bucket of the archived-id summary. */
  archivedIdsBucket(bucket: number): string;
  /** One Bloom filter (level) of a bucket. */
  archivedIdsLevel(bucket: number, level: number): string;
  /** The archive's high-water mark: the sequence up to which every payment is archived. */
  archivedThrough(): string;
}

/** The root without trailing slashes: every key, the ledger's and the others', starts with it. */
export const keyBase = (root: string = DEFAULT_ROOT): string => root.replace(/\/+$/, '');

export function keyLayout(root: string = DEFAULT_ROOT): KeyLayout {
  const base = keyBase(root);
  return {
    payment: (id, payer) => `${base}/payments/${id}/${payer}`,
    paymentsWithId: (id) => `${base}/payments/${id}/`,
    paymentsPrefix: () => `${base}/payments/`,
    accountEntry: (account, id, payer) => `${base}/accounts/${account}/${id}/${payer}`,
    accountPrefix: (account) => `${base}/accounts/${account}/`,
    accountEntriesWithId: (account, id) => `${base}/accounts/${account}/${id}/`,
    readinessProbe: () => `${base}/meta/ready-probe`,
    archivedIdsPrefix: () => `${base}/archive/ids/`,
    archivedIdsBucket: (bucket) => `${base}/archive/ids/${String(bucket).padStart(3, '0')}`,
    archivedIdsLevel: (bucket, level) =>
      `${base}/archive/ids/${String(bucket).padStart(3, '0')}/${String(level).padStart(5, '0')}`,
    archivedThrough: () => `${base}/archive/through`,
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
