/**
 * A tiered ledger whose every resolved commit is followed by a full archival pass (hot window 0),
 * so that the ledger contract's reads, retries and histories cross the tier boundary.
 */
import type { LedgerArchiver } from '../../coordination/cluster/ledger-archiver';
import type { TieredLedger } from '../../ledger/tiered-ledger';

export function archiveEachCommit(ledger: TieredLedger, archiver: LedgerArchiver): TieredLedger {
  return Object.assign(Object.create(ledger) as TieredLedger, {
    commit: async (...args: Parameters<TieredLedger['commit']>) => {
      const outcome = await ledger.commit(...args);
      await archiver.runOnce();
      return outcome;
    },
  });
}
