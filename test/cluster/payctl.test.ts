/**
 * payctl against a real local cluster, started the way an operator starts it (`npm start`, i.e.
 * dev/start.ts, on free ports in a temp data dir), so kill and restart go through the same
 * state file and supervisor they use in real life. Each command runs as its own process.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../cli/errors';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { request } from '../../dev/cluster/http';
import { STATE_FILE_NAME } from '../../dev/cluster/local-control';
import { type ManagedProcess, waitFor } from '../../dev/cluster/managed-process';
import { startLauncher } from '../support/launcher';

let dir: string;
let supervisor: ManagedProcess;
let hostPorts: number[];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: each test reads its own shape of payctl's --json output
  json: () => any;
}

function payctl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/payctl.js'), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PAY_DATA_DIR: join(dir, 'data'), PAYCTL_URL: '' },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      },
    );
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'payctl-test-'));
  const ports = async (n: number) => {
    const list: number[] = [];
    for (let i = 0; i < n; i++) list.push(await getPort());
    return list;
  };
  const [clientPorts, peerPorts] = [await ports(3), await ports(3)];
  hostPorts = await ports(3);
  supervisor = startLauncher(join(dir, 'data'), join(dir, 'start.log'), [
    ...['--etcd-client-ports', clientPorts.join(',')],
    ...['--etcd-peer-ports', peerPorts.join(',')],
    ...['--host-ports', hostPorts.join(',')],
  ]);
  await waitFor('the cluster state file', async () => existsSync(join(dir, 'data', STATE_FILE_NAME)), 45_000);
}, 60_000);

afterAll(async () => {
  await supervisor?.stop(15_000);
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

describe('payctl', () => {
  it('status shows every host and member, the raft leader, term and index', async () => {
    const run = await payctl('status', '--json');
    expect(run.code, run.stderr).toBe(0);
    const status = run.json();
    expect(status.etcd.members.map((m: { name: string }) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(status.etcd.members.every((m: { healthy: boolean }) => m.healthy)).toBe(true);
    expect(status.etcd.members.filter((m: { isLeader: boolean }) => m.isLeader)).toHaveLength(1);
    expect(status.etcd.members[0].raftTerm).toBeGreaterThan(0);
    expect(status.hosts.filter((h: { alive: boolean }) => h.alive)).toHaveLength(3);
    const text = await payctl('status');
    expect(text.stdout).toMatch(/etcd: 3\/3 members healthy/);
    expect(text.stdout).toMatch(/^n\d\s+healthy\s+raft leader\s+\d+\s+\d+/m);
  });

  it('pays exactly once by id, shows the payment, lists the history, and exits non-zero on errors', async () => {
    const id = `cli-${Date.now()}`;
    const args = [
      'pay',
      '--id',
      id,
      '--payer',
      'cli-a',
      '--payee',
      'cli-b',
      '--amount',
      '1250',
      '--currency',
      'EUR',
    ];
    const first = await payctl(...args, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ outcome: 'committed', payment: { id, amount: 1250 } });
    const again = await payctl(...args, '--json');
    expect(again.json()).toMatchObject({
      outcome: 'replayed',
      payment: { sequence: first.json().payment.sequence },
    });
    const conflict = await payctl(...args.slice(0, -4), '--amount', '99', '--currency', 'EUR');
    expect(conflict.code).toBe(EXIT_CODES.refused);
    expect(conflict.stderr).toMatch(/already recorded with different content/);

    const shown = await payctl('get', id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect((await payctl('get', 'no-such-payment')).code).toBe(EXIT_CODES.notFound);

    // Another payer may use the same id: a payment of its own, and then the id alone is ambiguous.
    const otherPayer = await payctl(...args.slice(0, 4), 'cli-z', ...args.slice(5), '--json');
    expect(otherPayer.json()).toMatchObject({ outcome: 'committed', payment: { id, payer: 'cli-z' } });
    const ambiguous = await payctl('get', id);
    expect(ambiguous.code).toBe(EXIT_CODES.refused);
    expect(ambiguous.stderr).toMatch(/payer: cli-a\n\s+payer: cli-z\n\s+repeat with --payer/);
    const byPayer = await payctl('get', id, '--payer', 'cli-z', '--json');
    expect(byPayer.json()).toMatchObject({ id, payer: 'cli-z', amount: 1250 });
    expect((await payctl('get', id, '--payer', 'cli-b')).code).toBe(EXIT_CODES.notFound);

    const history = await payctl('history', '--account', 'cli-b', '--json');
    expect(history.json().payments.map((p: { id: string }) => p.id)).toContain(id);
    expect((await payctl('history', '--account', 'bad account!')).code).toBe(EXIT_CODES.refused);
    expect((await payctl('pay', '--payer', 'x')).code).toBe(EXIT_CODES.usage);
  });

  it('manages API keys: create for an account, use it, list it, revoke it', async () => {
    const created = await payctl('keys', 'create', '--account', 'cli-k', '--label', 'shop k', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { id, key } = created.json() as { id: string; key: string };
    expect(key).toMatch(/^pay_[0-9a-f]{16}_/);
    const pay = (payer: string) =>
      payctl(
        'pay',
        '--api-key',
        key,
        '--payer',
        payer,
        '--payee',
        'cli-b',
        '--amount',
        '5',
        '--currency',
        'EUR',
      );
    expect((await pay('cli-k')).code).toBe(0);
    const outside = await pay('cli-a');
    expect(outside.code).toBe(EXIT_CODES.refused);
    expect(outside.stderr).toMatch(/may not pay from account cli-a/);
    const listed = await payctl('keys', 'list', '--json');
    expect(listed.json().keys).toContainEqual(
      expect.objectContaining({ id, accounts: ['cli-k'], label: 'shop k' }),
    );
    expect(listed.stdout).not.toContain(key);
    expect((await payctl('keys', 'revoke', id)).code).toBe(0);
    // Revocation is effective within the hosts' key cache TTL (1 s).
    await new Promise((r) => setTimeout(r, 1500));
    const refused = await pay('cli-k');
    expect(refused.code).toBe(EXIT_CODES.refused);
    expect(refused.stderr).toMatch(/invalid or revoked/);
  });

  it('events says clearly when the event log is not deployed', async () => {
    const deployed = (await request(`http://127.0.0.1:${hostPorts[0]}/events?limit=1`)).status !== 404;
    const run = await payctl('events', '--json');
    if (deployed) expect(run.code, run.stderr).toBe(0);
    else {
      expect(run.code).toBe(EXIT_CODES.notAvailable);
      expect(run.stderr).toMatch(/event log is not available/);
    }
  });

  it('kills a member by pid, shows it down, and restarts it with progress', async () => {
    const before = JSON.parse(readFileSync(join(dir, 'data', STATE_FILE_NAME), 'utf8'));
    const n2 = before.processes.find((p: { name: string }) => p.name === 'n2');
    const killed = await payctl('kill', 'n2', '--json');
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.json()).toMatchObject({ name: 'n2', pid: n2.pid, signal: 'SIGTERM' });
    expect(() => process.kill(n2.pid, 0)).toThrow();
    expect(killed.stderr).toMatch(/stopping member n2/);

    const status = (await payctl('status', '--json')).json();
    expect(status.etcd.members.find((m: { name: string }) => m.name === 'n2').healthy).toBe(false);
    expect((await payctl('kill', 'n2')).code).toBe(EXIT_CODES.refused);

    const restarted = await payctl('restart', 'n2', '--json');
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.json().pid).not.toBe(n2.pid);
    expect(restarted.stderr).toMatch(/restarting member n2, waiting until healthy: done/);
    const after = (await payctl('status', '--json')).json();
    expect(after.etcd.members.every((m: { healthy: boolean }) => m.healthy)).toBe(true);
    expect((await payctl('restart', 'n2')).code).toBe(EXIT_CODES.refused);
    expect((await payctl('kill', 'n9')).code).toBe(EXIT_CODES.notFound);
  });

  it('keeps working through another host while one is killed', async () => {
    expect((await payctl('kill', 'h1', '--signal', 'KILL')).code).toBe(0);
    const run = await payctl(
      'pay',
      '--payer',
      'cli-c',
      '--payee',
      'cli-d',
      '--amount',
      '5',
      '--currency',
      'GBP',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().payment.host).not.toBe('h1');
    expect((await payctl('restart', 'h1')).code).toBe(0);
  });

  it('replace-member refuses a running member, then replaces a stopped one that lost its data', async () => {
    const refused = await payctl('replace-member', 'n3');
    expect(refused.code).toBe(EXIT_CODES.refused);
    expect(refused.stderr).toMatch(/member n3 is running: stop it first/);
    expect((await payctl('replace-member', 'n9')).code).toBe(EXIT_CODES.notFound);

    expect((await payctl('kill', 'n3')).code).toBe(0);
    // The new member runs in the tool's foreground (as for an operator) until we stop its process group.
    const tool = spawn(process.execPath, [join(REPO_ROOT, 'bin/payctl.js'), 'replace-member', 'n3'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PAY_DATA_DIR: join(dir, 'data'), PAYCTL_URL: '' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    tool.stdout.on('data', (chunk) => {
      output += chunk;
    });
    tool.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<void>((resolve) => tool.once('exit', () => resolve()));
    try {
      await waitFor('n3 replaced', async () => /n3 replaced and healthy/.test(output), 60_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}; replace-member said:\n${output}`);
        },
      );
      expect(output).toMatch(/member remove n3[\s\S]*member add n3[\s\S]*--initial-cluster-state existing/);
      const status = (await payctl('status', '--json')).json();
      expect(status.etcd.members.map((m: { healthy: boolean }) => m.healthy)).toEqual([true, true, true]);
      const paid = await payctl(
        'pay',
        ...['--payer', 'cli-r', '--payee', 'cli-s', '--amount', '7', '--currency', 'EUR', '--json'],
      );
      expect(paid.code, paid.stderr).toBe(0);
    } finally {
      if (tool.exitCode === null && tool.pid) process.kill(-tool.pid, 'SIGTERM');
      await exited;
    }
  }, 120_000);

  it('says when there is no local cluster to act on', async () => {
    const run = await payctl('kill', 'n1', '--data-dir', join(dir, 'elsewhere'));
    expect(run.code).toBe(EXIT_CODES.noLocalCluster);
    expect(run.stderr).toMatch(/no local cluster/);
  });
});
