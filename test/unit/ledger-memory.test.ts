import { describe, expect, it } from 'vitest';
import { QuorumUnavailableError } from '../../ledger/errors';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { intent, ledgerContract } from '../contracts/ledger-contract';

ledgerContract('memory', async () => new MemoryLedger());

describe('memory ledger fault switch', () => {
  it('fails every call with QuorumUnavailableError while unavailable', async () => {
    const ledger = new MemoryLedger();
    ledger.unavailable = true;
    await expect(
      ledger.commit(intent(), { host: 'h', committedAt: new Date().toISOString() }),
    ).rejects.toBeInstanceOf(QuorumUnavailableError);
    await expect(ledger.ping()).rejects.toBeInstanceOf(QuorumUnavailableError);
  });
});
