import { describe, expect, it } from 'vitest';
import { MemoryArchive } from '../../ledger/archive/memory-archive';
import { ArchiveUnavailableError, isRetryable } from '../../ledger/errors';
import { paymentArchiveContract, stored } from '../contracts/payment-archive-contract';

paymentArchiveContract('memory', async () => new MemoryArchive());

describe('memory archive fault switch', () => {
  it('fails every call with the retryable ArchiveUnavailableError while unavailable', async () => {
    const archive = new MemoryArchive();
    archive.unavailable = true;
    const refused = archive.insertMany([stored()]);
    await expect(refused).rejects.toBeInstanceOf(ArchiveUnavailableError);
    expect(isRetryable(await refused.catch((e) => e))).toBe(true);
    await expect(archive.ping()).rejects.toBeInstanceOf(ArchiveUnavailableError);
    archive.unavailable = false;
    expect(await archive.history({ account: 'anyone', limit: 1 })).toEqual({
      payments: [],
      continueAfter: undefined,
    });
  });
});
