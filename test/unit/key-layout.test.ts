/**
 * Every etcd key string, byte for byte, under the default root: the ledger's, coordination's and
 * the API keys'. Existing data directories hold these keys, so a change here strands their data.
 */
import { describe, expect, it } from 'vitest';
import { coordinationKeys, LEADER_ELECTION_NAME, lastSegment } from '../../coordination/etcd/key-layout';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { DEFAULT_ROOT, keyLayout, parseAccountEntry, prefixEnd } from '../../ledger/etcd/key-layout';

describe('etcd key layout', () => {
  it("builds the ledger's keys under /pay/v2", () => {
    const k = keyLayout();
    expect(DEFAULT_ROOT).toBe('/pay/v2');
    expect(k.payment('order-1', 'alice')).toBe('/pay/v2/payments/order-1/alice');
    expect(k.paymentsWithId('order-1')).toBe('/pay/v2/payments/order-1/');
    expect(k.paymentsPrefix()).toBe('/pay/v2/payments/');
    expect(k.accountEntry('shop-1', 'order-1', 'alice')).toBe('/pay/v2/accounts/shop-1/order-1/alice');
    expect(k.accountPrefix('shop-1')).toBe('/pay/v2/accounts/shop-1/');
    expect(k.readinessProbe()).toBe('/pay/v2/meta/ready-probe');
    expect(keyLayout('/pay/v2/').payment('a', 'b')).toBe('/pay/v2/payments/a/b');
    expect(parseAccountEntry(k.accountEntry('shop-1', 'order-1', 'alice'))).toEqual({
      id: 'order-1',
      payer: 'alice',
    });
    expect(prefixEnd('/pay/v2/').toString()).toBe('/pay/v20');
  });

  it("builds coordination's keys under the same root", () => {
    const k = coordinationKeys();
    expect(k.host('h1')).toBe('/pay/v2/hosts/h1');
    expect(k.hostsPrefix()).toBe('/pay/v2/hosts/');
    expect(`${k.coordinationNamespace()}election/${LEADER_ELECTION_NAME}/`).toBe('/pay/v2/election/leader/');
    expect(k.retentionPolicy()).toBe('/pay/v2/meta/retention');
    expect(k.maintenanceRecord()).toBe('/pay/v2/meta/maintenance');
    expect(k.event('h1', '000001700000000.00001', 7)).toBe(
      '/pay/v2/events/log/h1/000001700000000.00001/000000000007',
    );
    expect(k.eventsOfHost('h1')).toBe('/pay/v2/events/log/h1/');
    expect(k.eventMark('h1')).toBe('/pay/v2/events/marks/h1');
    expect(k.eventMarksPrefix()).toBe('/pay/v2/events/marks/');
    expect(lastSegment(k.host('h1'))).toBe('h1');
  });

  it('reads API key records under /pay/v2/auth/keys/', async () => {
    const read: string[] = [];
    // Only the key asked for is of interest: a fake client that records it and finds nothing.
    const client = {
      get: (key: string) => {
        read.push(key);
        return { string: async () => null };
      },
    };
    expect(await new EtcdApiKeyStore(client as never).get('k1')).toBeUndefined();
    expect(read).toEqual(['/pay/v2/auth/keys/k1']);
  });
});
