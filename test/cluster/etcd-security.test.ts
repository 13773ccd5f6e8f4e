/**
 * Refused etcd clients (issue 7 §2): the secured cluster that scratch clusters and `npm start`
 * run — TLS with client-certificate authentication, and RBAC confining the function hosts'
 * user to the ledger root — refuses a client without a certificate, a certificate from another
 * CA, and users outside the host role, while a host still commits payments as payments-host and
 * degrades gracefully where its role stops (defragmentation needs root).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { EtcdPermissionDeniedError } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { coordinationKeys } from '../../coordination/etcd/key-layout';
import { ensurePki, HOST_USER, ROOT_USER, type TlsFiles } from '../../dev/cluster/certificates';
import { grantPrefix } from '../../dev/cluster/etcd-auth';
import { waitFor } from '../../dev/cluster/managed-process';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;

beforeAll(async () => {
  // Leader maintenance every 500 ms, so the defragmentation refusal shows within the test.
  cluster = await startTestCluster({ members: 3, hosts: 1, hostEnv: { MAINTENANCE_INTERVAL_MS: '500' } });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** One attempt and short deadlines: a refused client must fail fast, not be retried. */
const quick = { attempts: 1, callDeadlineMs: 2000, dialTimeoutMs: 2000 } as const;
const ledgerKey = () => `${cluster.ledgerRoot}/payments/security-${randomUUID()}`;

describe('etcd refuses', () => {
  it('a client that presents no certificate (TLS handshake refused)', async () => {
    const pki = cluster.pki!;
    const client = createEtcdClient({
      endpoints: cluster.etcd.clientUrls(),
      tls: { ca: pki.caFile },
      ...quick,
    });
    try {
      await expect(client.get(ledgerKey()).string()).rejects.toThrow(/certificate|UNAVAILABLE/i);
      await expect(client.put(ledgerKey()).value('x')).rejects.toThrow(/certificate|UNAVAILABLE/i);
    } finally {
      client.close();
    }
  });

  it('a plain-http client', async () => {
    const endpoints = cluster.etcd.clientUrls().map((u) => u.replace('https://', 'http://'));
    const client = createEtcdClient({ endpoints, ...quick });
    try {
      await expect(client.get(ledgerKey()).string()).rejects.toThrow();
    } finally {
      client.close();
    }
  });

  it('a certificate issued by another CA, even with the name root', async () => {
    const other = await ensurePki({ dir: join(cluster.dir, 'other-ca'), members: [] });
    const impostor = other.user('root');
    const client = createEtcdClient({
      endpoints: cluster.etcd.clientUrls(),
      // It trusts the real members, but its own certificate is signed by a CA etcd does not trust.
      tls: { ca: cluster.pki!.caFile, cert: impostor.certFile, key: impostor.keyFile },
      ...quick,
    });
    try {
      await expect(client.get(ledgerKey()).string()).rejects.toThrow(/certificate|UNAVAILABLE/i);
    } finally {
      client.close();
    }
  });

  it('a valid certificate whose user has no role: no read, no write under the ledger root', async () => {
    await cluster.pki!.issueUser('outsider');
    const key = ledgerKey();
    await cluster.client().put(key).value('written by root');
    const outsider = cluster.client({ as: 'outsider', ...quick });
    await expect(outsider.get(key).string()).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(outsider.put(ledgerKey()).value('x')).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(outsider.getAll().prefix(`${cluster.ledgerRoot}/`).keys()).rejects.toBeInstanceOf(
      EtcdPermissionDeniedError,
    );
  });

  it('a user whose role covers another prefix: refused under the ledger root, served on its own', async () => {
    const root = cluster.client();
    const tenant = `tenant-${randomUUID().slice(0, 8)}`;
    const ownPrefix = `/elsewhere/${tenant}`;
    await root.role(tenant).create();
    await grantPrefix(root, tenant, ownPrefix);
    await root.auth.userAdd({ name: tenant, password: '', options: { no_password: true } });
    await root.user(tenant).addRole(tenant);
    await cluster.pki!.issueUser(tenant);
    const other = cluster.client({ as: tenant, ...quick });
    // Served where its role reaches: the refusals below are RBAC, not a broken certificate.
    await other.put(`${ownPrefix}/k`).value('mine');
    expect(await other.get(`${ownPrefix}/k`).string()).toBe('mine');
    await expect(other.get(ledgerKey()).string()).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(other.put(ledgerKey()).value('x')).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    // The ledger root's prefix does not spill over to a longer sibling root.
    await expect(
      cluster
        .client({ as: HOST_USER, ...quick })
        .put(`${cluster.ledgerRoot}0/k`)
        .value('x'),
    ).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
  });

  it('the hosts user payments-host outside the ledger root: no write, no read, no defragmentation', async () => {
    const root = cluster.client();
    await root.put('/elsewhere/secret').value('root only');
    const host = cluster.client({ as: HOST_USER, ...quick });
    await expect(host.put('/elsewhere/x').value('x')).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(host.put('/pay-other/x').value('x')).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(host.get('/elsewhere/secret').string()).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(host.delete().key('/elsewhere/secret')).rejects.toBeInstanceOf(EtcdPermissionDeniedError);
    await expect(host.maintenance.defragment()).rejects.toThrow(/permission denied/);
    // ...and inside it, it reads and writes.
    const key = ledgerKey();
    await host.put(key).value('host');
    expect(await host.get(key).string()).toBe('host');
  });
});

/** GET /members on a member's peer port with this client certificate: the status, or the TLS refusal. */
function peerMembers(port: number, identity: TlsFiles): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/members',
        cert: readFileSync(identity.certFile),
        key: readFileSync(identity.keyFile),
        // Whom the member is does not matter here, only whether it admits this certificate.
        rejectUnauthorized: false,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve(`refused: ${error.message}`));
    req.end();
  });
}

describe("etcd's peer ports (issue 17 §5)", () => {
  it('refuse the host certificate, and the root one: only member certificates reach the peer API', async () => {
    const pki = cluster.pki!;
    for (const member of cluster.etcd.members) {
      for (const user of [HOST_USER, ROOT_USER]) {
        const answer = await peerMembers(member.spec.peerPort, pki.user(user));
        expect(answer, `${user} on ${member.name}'s peer port`).toMatch(/^refused/);
      }
      // The probe itself works: a member's own peer certificate is served.
      expect(await peerMembers(member.spec.peerPort, pki.memberPeer(member.name))).toBe('status 200');
    }
  });
});

describe('a function host on the secured cluster', () => {
  it('commits a payment as payments-host', async () => {
    const [h1] = cluster.fleet.hosts;
    const id = `sec-${randomUUID()}`;
    const response = await fetch(`${h1!.url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.adminKey}` },
      body: JSON.stringify({ id, payer: 'acct-sec-a', payee: 'acct-sec-b', amount: 700, currency: 'EUR' }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const stored = await cluster
      .client()
      .get(keyLayout(cluster.ledgerRoot).payment(id, 'acct-sec-a'))
      .string();
    expect(JSON.parse(stored ?? 'null')).toMatchObject({ host: 'h1' });
    // It did so as payments-host: that certificate, and no other, is what the process was given.
    const environ = readFileSync(`/proc/${h1!.process.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`ETCD_CERT_FILE=${cluster.pki!.user(HOST_USER).certFile}`);
  });

  it('skips defragmentation after the first refusal, and stays ready', async () => {
    const keys = coordinationKeys(cluster.ledgerRoot);
    // A policy that wants every member defragmented on every pass (500 ms apart).
    const policy = { keepRevisions: 100_000, defragMinFreeBytes: 0, defragMinFreeRatio: 0 };
    await cluster.client().put(keys.retentionPolicy()).value(JSON.stringify(policy));
    // The leader records each defragmentation before it asks for it (ledger-maintenance.ts).
    const record = async () =>
      JSON.parse((await cluster.client().get(keys.maintenanceRecord()).string()) ?? '{}') as {
        action?: string;
        at?: string;
      };
    await waitFor('a defragmentation attempt', async () => (await record()).action === 'defragment', 20_000);
    const first = await record();
    // Four more passes: no new attempt (the record would change), and the host still serves.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await record()).toEqual(first);
    expect((await fetch(`${cluster.fleet.hosts[0]!.url}/ready`)).status).toBe(200);
  });
});
