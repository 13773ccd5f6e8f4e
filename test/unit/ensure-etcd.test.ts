/**
 * The launcher's choice of etcd (dev/cluster/ensure-etcd.ts, issue 17 §5): 3.4 by default;
 * PAY_ETCD_VERSION=3.5 fetches 3.5.30 with fetch-etcd.sh, and falls back to 3.4 when the download
 * is refused. The refusal is made on loopback: apt-get is pointed at a proxy port nothing listens on.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureEtcd, etcdRelease } from '../../dev/cluster/ensure-etcd';

const saved = { ...process.env };
let cache: string;

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'payments-etcd-cache-'));
  delete process.env.ETCD_BIN;
  delete process.env.PAY_ETCD_VERSION;
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(cache, { recursive: true, force: true });
});

describe('the etcd release the launcher runs', () => {
  it('is the system etcd 3.4 by default', () => {
    expect(etcdRelease(ensureEtcd({ log: () => {} }))).toBe('3.4');
  });

  it('etcd 3.5 download refused: falls back to 3.4, says so, and leaves nothing half-unpacked in the cache', () => {
    process.env.PAY_ETCD_CACHE_DIR = cache;
    process.env.http_proxy = 'http://127.0.0.1:9';
    const lines: string[] = [];
    const binary = ensureEtcd({ release: '3.5', log: (line) => lines.push(line) });
    expect(etcdRelease(binary)).toBe('3.4');
    expect(lines.join('\n')).toMatch(
      /etcd 3\.5\.30 could not be fetched.*falling back to the system etcd 3\.4/,
    );
    expect(readdirSync(cache)).toEqual([]);
  }, 120_000);

  it('refuses a release it does not know', () => {
    expect(() => ensureEtcd({ release: '3.6' })).toThrow(/PAY_ETCD_VERSION must be one of 3\.4, 3\.5/);
  });
});
