/**
 * What `npm start` leaves readable (issue 17 §5 and §7), on the real launcher: dev/start.ts with
 * one etcd member and one host, its output redirected to a file as a start log would be.
 *
 *  - The admin key is never written to that log: it lives only in its 0600 file.
 *  - The host is given only the CA certificate and its own certificate and key (key 0600), and,
 *    the launcher being root, runs as an unprivileged account that cannot open the CA keys or the
 *    root user's key.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/cluster/free-port';
import type { LocalClusterState } from '../../dev/cluster/local-control';
import { type ManagedProcess, waitFor } from '../../dev/cluster/managed-process';
import { startLauncher } from '../support/launcher';

const asRoot = process.getuid?.() === 0;
let dir: string;
let dataDir: string;
let startLog: string;
let launcher: ManagedProcess;

beforeAll(async () => {
  // mkdtemp makes it 0700: as root, the launcher itself must let the hosts' account through.
  dir = mkdtempSync(join(tmpdir(), 'payments-launcher-'));
  dataDir = join(dir, 'data');
  startLog = join(dir, 'start.log');
  const [client, peer, host] = [await freePort(), await freePort(), await freePort()];
  launcher = startLauncher(
    dataDir,
    startLog,
    [
      ...['--etcd-members', '1', '--hosts', '1'],
      ...['--etcd-client-ports', String(client), '--etcd-peer-ports', String(peer)],
      ...['--host-ports', String(host)],
    ],
    { ...process.env, LOG_LEVEL: 'warn' },
  );
  await waitFor(
    'npm start to be ready',
    async () => existsSync(startLog) && readFileSync(startLog, 'utf8').includes('ready: try'),
    90_000,
  );
}, 120_000);

afterAll(async () => {
  // SIGTERM: the launcher stops its host and etcd member itself.
  await launcher?.stop(20_000);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const hostPid = (): number => {
  const state = JSON.parse(readFileSync(join(dataDir, 'cluster-state.json'), 'utf8')) as LocalClusterState;
  const pid = state.processes.find((p) => p.kind === 'host')?.pid;
  if (!pid) throw new Error('no running host in cluster-state.json');
  return pid;
};

describe('npm start', () => {
  it('never writes the admin key to its output: it is only in the 0600 key file', () => {
    const key = readFileSync(join(dataDir, 'dev-admin-key'), 'utf8').trim();
    expect(key).toMatch(/^pay_[0-9a-f]{16}_/);
    const log = readFileSync(startLog, 'utf8');
    expect(log).not.toContain(key);
    expect(log).not.toMatch(/pay_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/);
    expect(statSync(join(dataDir, 'dev-admin-key')).mode & 0o777).toBe(0o600);
  });

  it('gives the host only the CA certificate and its own certificate and key, the key 0600', () => {
    const environ = readFileSync(`/proc/${hostPid()}/environ`, 'utf8').split('\0');
    const credentials = join(dataDir, 'host-credentials');
    const given = Object.fromEntries(
      environ.filter((e) => e.startsWith('ETCD_') && e.includes('_FILE=')).map((e) => e.split('=', 2)),
    );
    expect(given).toEqual({
      ETCD_CA_FILE: join(credentials, 'ca.pem'),
      ETCD_CERT_FILE: join(credentials, 'host.pem'),
      ETCD_KEY_FILE: join(credentials, 'host-key.pem'),
    });
    expect(statSync(given.ETCD_KEY_FILE!).mode & 0o777).toBe(0o600);
    expect(environ.filter((e) => e.includes(join(dataDir, 'pki')))).toEqual([]);
  });

  it.runIf(asRoot)(
    'runs the host, as root, under an account that cannot open the CA keys or the root key',
    () => {
      const status = readFileSync(`/proc/${hostPid()}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
      expect(uid).not.toBe(0);
      expect(gid).not.toBe(0);
      // What a process of the host's account can open: its own files, and none of the PKI's keys.
      const pki = join(dataDir, 'pki');
      const credentials = join(dataDir, 'host-credentials');
      const paths = [
        join(credentials, 'ca.pem'),
        join(credentials, 'host.pem'),
        join(credentials, 'host-key.pem'),
        join(pki, 'ca-key.pem'),
        join(pki, 'peer-ca-key.pem'),
        join(pki, 'user-root-key.pem'),
        join(pki, 'user-payments-host-key.pem'),
        join(dataDir, 'dev-admin-key'),
      ];
      const probe = spawnSync(
        process.execPath,
        [
          '-e',
          `const fs = require('node:fs');
           const out = {};
           for (const p of JSON.parse(process.argv[1])) {
             try { fs.readFileSync(p); out[p] = 'read'; } catch (e) { out[p] = e.code; }
           }
           console.log(JSON.stringify(out));`,
          JSON.stringify(paths),
        ],
        { uid, gid, encoding: 'utf8', timeout: 10_000 },
      );
      expect(probe.status, probe.stderr).toBe(0);
      expect(JSON.parse(probe.stdout)).toEqual({
        [paths[0]!]: 'read',
        [paths[1]!]: 'read',
        [paths[2]!]: 'read',
        [paths[3]!]: 'EACCES',
        [paths[4]!]: 'EACCES',
        [paths[5]!]: 'EACCES',
        [paths[6]!]: 'EACCES',
        [paths[7]!]: 'EACCES',
      });
    },
  );
});
