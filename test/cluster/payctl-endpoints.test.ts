/**
 * payctl against hosts that serve GET /cluster and GET /events (the membership and event-log
 * endpoints other parts of the system add), using the response shapes those parts document.
 * A stand-in host (test/support/fake-host.ts) plays the host, so that this file pins payctl's
 * side of the contract on any branch; the real endpoints are exercised by their own tests.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { type FakeHost, startFakeHost } from '../support/fake-host';

let fake: FakeHost;
let url: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await startFakeHost();
  url = fake.url;
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fake?.close();
});

const args = (...rest: string[]) => [
  join(REPO_ROOT, 'bin/payctl.js'),
  ...rest,
  '--url',
  url,
  '--data-dir',
  '/nonexistent',
];

describe('payctl with /cluster and /events', () => {
  it('status shows the host leader, dead hosts and clock offsets from GET /cluster', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args('status'), { cwd: REPO_ROOT, timeout: 60_000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    expect(stdout).toMatch(/host leader: h1 since 2026-01-01T00:00:01.000Z, fencing token 42/);
    expect(stdout).toMatch(/^h1\s+alive\s+leader\s+0\.4 ms\s+n\/a/m);
    expect(stdout).toMatch(/^h2\s+DOWN/m);
    expect(stdout).toMatch(/^n1\s+healthy\s+raft leader\s+7\s+99/m);
    expect(stdout).toMatch(/etcd: 1\/2 members healthy — NO QUORUM/);
  });

  it('events --follow pages through the log in order and keeps polling', async () => {
    const child = spawn(process.execPath, args('events', '--follow', '--json', '--interval', '100'), {
      cwd: REPO_ROOT,
    });
    children.push(child);
    const lines: { seq: number }[] = [];
    let buffer = '';
    child.stdout!.on('data', (chunk) => {
      buffer += String(chunk);
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const part of parts) if (part) lines.push(JSON.parse(part));
    });
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    // All five events, then at least two polls past the end: it is following, not done.
    await expect
      .poll(
        () =>
          exited === undefined
            ? lines.length >= 5 && fake.fromAsked.filter((f) => f === '5').length >= 2
            : exited,
        {
          timeout: 45_000,
        },
      )
      .toBe(true);
    child.kill('SIGTERM');
    expect(lines.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(fake.fromAsked.slice(0, 3)).toEqual(['0', '2', '4']);
  });
});
