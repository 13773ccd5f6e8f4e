/**
 * ResilientWatch's anti-entropy re-list (ledger/etcd/resilient-watch.ts), against a scripted etcd
 * client: the watch's events and the listings are delivered exactly when each test says, so the
 * races are deterministic. The recovery from a compacted watch is covered on real etcd by
 * test/cluster/archived-id-watch.test.ts and the membership tests.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { ResilientWatch } from '../../ledger/etcd/resilient-watch';

const kv = (key: string, value: string, modRevision: number): IKeyValue =>
  ({
    key: Buffer.from(key),
    value: Buffer.from(value),
    mod_revision: String(modRevision),
    create_revision: '1',
    version: '1',
    lease: '0',
  }) as IKeyValue;

interface Listing {
  kvs: IKeyValue[];
  header: { revision: string };
}

/** A client whose range() answers from `answers` in order (or waits for `release`). */
function scriptedClient() {
  const watcher = Object.assign(new EventEmitter(), { cancel: async () => {} });
  const pending: Array<(listing: Listing) => void> = [];
  const calls = { range: 0 };
  const client = {
    kv: {
      range: () => {
        calls.range++;
        return new Promise<Listing>((resolve) => pending.push(resolve));
      },
    },
    watch: () => {
      const builder = {
        prefix: () => builder,
        startRevision: () => builder,
        watcher: () => {
          setImmediate(() => watcher.emit('connected'));
          return watcher;
        },
      };
      return builder;
    },
  } as unknown as Etcd3;
  /** Answers the oldest range() still waiting; throws when none is issued within 1 s. */
  const answer = async (kvs: IKeyValue[], revision: number) => {
    const end = Date.now() + 1000;
    while (pending.length === 0) {
      if (Date.now() > end) throw new Error('no range() was issued within 1 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    pending.shift()!({ kvs, header: { revision: String(revision) } });
    await new Promise((r) => setImmediate(r));
  };
  return { client, watcher, answer, calls };
}

function viewOf(client: Etcd3, resyncIntervalMs: number) {
  const view = new Map<string, string>();
  const watch = new ResilientWatch({
    client,
    prefix: 'p/',
    name: 'test',
    resyncIntervalMs,
    onSnapshot: (kvs) => {
      view.clear();
      for (const k of kvs) view.set(k.key.toString(), k.value.toString());
    },
    onPut: (k) => view.set(k.key.toString(), k.value.toString()),
    onDelete: (k) => view.delete(k.key.toString()),
  });
  return { view, watch };
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

let toClose: ResilientWatch | undefined;
afterEach(async () => {
  await toClose?.close();
  toClose = undefined;
});

describe('ResilientWatch resync (anti-entropy)', () => {
  it('lost-watch-event: a delete the watch never delivered is healed by the next re-list', async () => {
    const { client, answer } = scriptedClient();
    const { view, watch } = viewOf(client, 30);
    toClose = watch;
    watch.start();
    await answer([kv('p/a', '1', 4), kv('p/b', '1', 5)], 5);
    await until(() => !watch.stale());
    expect([...view.keys()]).toEqual(['p/a', 'p/b']);
    // p/b is deleted at revision 6, and its event is lost: only the re-list can tell.
    await answer([kv('p/a', '1', 4)], 6);
    expect(view.has('p/b')).toBe(false);
  });

  it('resync-race: an event newer than the listing, delivered while the list is in flight, is kept', async () => {
    const { client, watcher, answer } = scriptedClient();
    const { view, watch } = viewOf(client, 30);
    toClose = watch;
    watch.start();
    await answer([kv('p/a', '1', 4)], 4);
    await until(() => !watch.stale());
    // Wait for the resync's range() to be issued, then deliver a newer put before it answers.
    await new Promise((r) => setTimeout(r, 45));
    watcher.emit('put', kv('p/c', 'new', 8));
    await answer([kv('p/a', '1', 4)], 7);
    expect(view.get('p/c')).toBe('new');
  });

  it('resync-rollback: an event the listing already holds does not roll the view back', async () => {
    const { client, watcher, answer } = scriptedClient();
    const { view, watch } = viewOf(client, 30);
    toClose = watch;
    watch.start();
    await answer([kv('p/a', 'v1', 4)], 4);
    await until(() => !watch.stale());
    await new Promise((r) => setTimeout(r, 45));
    // The listing at revision 9 holds a=v3; the watch is behind and delivers a=v2 (rev 6) and a
    // delete of a at rev 5 only now.
    watcher.emit('put', kv('p/a', 'v2', 6));
    await answer([kv('p/a', 'v3', 9)], 9);
    watcher.emit('delete', kv('p/a', '', 5));
    expect(view.get('p/a')).toBe('v3');
    watcher.emit('put', kv('p/a', 'v4', 10));
    expect(view.get('p/a')).toBe('v4');
  });

  it('resyncIntervalMs 0 lists once and never again', async () => {
    const { client, answer, calls } = scriptedClient();
    const { view, watch } = viewOf(client, 0);
    toClose = watch;
    watch.start();
    await answer([kv('p/a', '1', 4)], 4);
    await until(() => !watch.stale());
    await new Promise((r) => setTimeout(r, 100));
    expect(calls.range).toBe(1);
    expect(view.has('p/a')).toBe(true);
  });
});
