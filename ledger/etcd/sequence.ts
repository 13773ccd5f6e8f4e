/**
 * Ledger sequence numbers: a unique integer that totally orders committed payments.
 *
 * etcd gives every write transaction one revision, strictly increasing across the cluster (Raft
 * log order). A transaction may carry several payments (group commit), so the sequence also
 * encodes the payment's position inside its transaction:
 *
 *     sequence = revision × SLOTS_PER_REVISION + position
 *
 * Sequences compare in commit order, and a payment acknowledged before another was sent always
 * has the smaller one, because etcd revisions are linearizable.
 */

/** Room for this many payments in one etcd transaction. A batch must never exceed it. */
export const SLOTS_PER_REVISION = 1000;

export function toSequence(revision: number, position: number): number {
  if (!Number.isSafeInteger(revision) || revision <= 0) throw new RangeError(`bad revision ${revision}`);
  if (!Number.isInteger(position) || position < 0 || position >= SLOTS_PER_REVISION) {
    throw new RangeError(`position ${position} outside 0..${SLOTS_PER_REVISION - 1}`);
  }
  return revision * SLOTS_PER_REVISION + position;
}

export function revisionOf(sequence: number): number {
  return Math.floor(sequence / SLOTS_PER_REVISION);
}
