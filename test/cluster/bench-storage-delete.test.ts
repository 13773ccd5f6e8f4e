/**
 * The bench's retention step (dev/bench/storage.ts) deletes in transactions of at most
 * DELETE_KEYS_PER_TXN keys. Fault pinned: *bench-delete-one-txn*, where one DeleteRange of 25 000
 * raw puts grew etcd 3.4's read buffer to its size, and every row after the bench's first round
 * ran at a third of its speed. Each DeleteRange is one etcd revision, so the revisions it took
 * count its transactions.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DELETE_KEYS_PER_TXN, StorageProbe } from '../../dev/bench/storage';
import { type ScratchCluster, startScratchCluster } from '../../dev/cluster/scratch-cluster';

let cluster: ScratchCluster;

beforeAll(async () => {
  cluster = await startScratchCluster({ members: 1, secure: false });
});

afterAll(async () => {
  await cluster?.stop();
});

it('bench-delete-one-txn: deletePrefix removes every key, DELETE_KEYS_PER_TXN at most per transaction', async () => {
  expect(DELETE_KEYS_PER_TXN).toBeLessThanOrEqual(1000);
  const client = cluster.client({ callDeadlineMs: 10_000 });
  const keys = 2500;
  for (let i = 0; i < keys; i += 500) {
    await client.kv.txn({
      success: Array.from({ length: 500 }, (_, j) => ({
        request_put: { key: Buffer.from(`/bench/raw/${i + j}`), value: Buffer.from('v') },
      })),
    });
  }
  await client.put('/bench/rawx').value('outside the prefix').exec();
  const revision = async () => Number((await client.kv.range({ key: Buffer.from('/') })).header.revision);
  const probe = new StorageProbe(cluster.etcd);
  try {
    const before = await revision();
    expect(await probe.deletePrefix('/bench/raw/')).toBe(keys);
    expect((await revision()) - before).toBe(Math.ceil(keys / DELETE_KEYS_PER_TXN));
    expect(await client.getAll().prefix('/bench/raw/').count()).toBe(0);
    expect(await client.get('/bench/rawx').string()).toBe('outside the prefix');
  } finally {
    probe.close();
  }
});
