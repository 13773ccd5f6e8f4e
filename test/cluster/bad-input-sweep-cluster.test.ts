/**
 * The bad-input sweep against real function host processes over a real three-member etcd: fewer
 * runs than in-process, but through Node's HTTP stack, plus raw-socket requests that no fetch
 * client would send. Every answer is a 4xx JSON error, the hosts stay up, and the ledger's etcd
 * keyspace (keys, values and revisions) is exactly what it was before the sweep.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPayment, request } from '../../dev/cluster/http';
import { keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';
import {
  routeMethodCases,
  routesOfOpenApi,
  SEED_PAYMENTS,
  type SweepCase,
  sweepCases,
} from '../support/bad-input';
import { judge } from '../support/sweep-assertions';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
let hosts: string[];
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 2 });
  hosts = cluster.fleet.urls();
  for (const p of SEED_PAYMENTS) expect((await postPayment(hosts[0]!, p)).status).toBe(201);
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Every key under the ledger root with its value and revisions, and the cluster's revision. */
/**
 * Every payment record and account index entry, with their revisions. Only the ledger's own
 * prefixes: hosts also keep membership, leader and event keys under the root, which change on
 * their own.
 */
async function ledgerKeyspace() {
  const keys = keyLayout();
  const prefixes = [keys.paymentsPrefix(), keys.paymentsPrefix().replace(/payments\/$/, 'accounts/')];
  const ranges = await Promise.all(
    prefixes.map((p) => cluster.client().kv.range({ key: Buffer.from(p), range_end: prefixEnd(p) })),
  );
  return ranges.flatMap((r) =>
    r.kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.create_revision, kv.mod_revision]),
  );
}

/** Sends raw bytes and returns the status line's code, the content type and the body. */
function rawRequest(
  url: string,
  bytes: string,
): Promise<{ status: number; contentType: string | null; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: ([^\r\n]+)/i.exec(head)?.[1] ?? null;
      resolve({ status, contentType, text: body });
    });
    socket.end(bytes);
  });
}

const RAW_CASES: [string, string][] = [
  ['garbage request line', 'GARBAGE\r\n\r\n'],
  ['bad HTTP version', 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['header over 16 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['control character in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'],
  [
    'broken chunked body',
    'POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n',
  ],
  [
    'both Content-Length and Transfer-Encoding',
    'POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
  ],
  [
    'body shorter than its Content-Length',
    'POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":"short-body"',
  ],
  [
    'invalid UTF-8 in the body',
    `POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n\xff\xfe`,
  ],
];

describe('bad-input sweep (real hosts, real etcd)', () => {
  it('answers every malformed request with a 4xx JSON error and leaves etcd unchanged', async () => {
    const before = await ledgerKeyspace();
    let n = 0;
    // Valid POSTs would change the keyspace; they are covered in-process.
    const cases = sweepCases(() => `c${++n}-`).filter((c: SweepCase) => c.expected.kind !== 'created');
    await fc.assert(
      fc.asyncProperty(cases, fc.nat(), async (c, pick) => {
        const host = hosts[pick % hosts.length]!;
        const response = await request(`${host}${c.path}`, {
          method: c.method,
          headers: c.headers,
          body: c.body,
        });
        judge(c, {
          status: response.status,
          contentType: response.headers.get('content-type'),
          text: response.text,
        });
      }),
      { numRuns: 250 },
    );
    // Every documented route × every method × prototype property names, with and without a key.
    const doc = (
      await request<{ paths: Record<string, Record<string, unknown>> }>(`${hosts[0]}/openapi.json`)
    ).body;
    await fc.assert(
      fc.asyncProperty(routeMethodCases(routesOfOpenApi(doc.paths)), fc.nat(), async (c, pick) => {
        const { method, headers, body } = c;
        const response = await request(`${hosts[pick % hosts.length]}${c.path}`, { method, headers, body });
        judge(c, {
          status: response.status,
          contentType: response.headers.get('content-type'),
          text: response.text,
        });
      }),
      { numRuns: 250 },
    );
    for (const [label, bytes] of RAW_CASES) {
      const response = await rawRequest(hosts[0]!, bytes);
      judge({ label, method: 'RAW', path: label, headers: {}, expected: { kind: 'rejected' } }, response);
    }
    for (const h of hosts) expect((await request(`${h}/ready`)).status).toBe(200);
    expect(await ledgerKeyspace()).toEqual(before);
  }, 120_000);
});
