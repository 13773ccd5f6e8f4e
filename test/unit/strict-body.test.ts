/**
 * Input that a lenient parser alters silently (issue 15 §3): a body whose meaning would change on
 * its way to storage is refused with 400 `invalid_request` naming the problem, before anything
 * reaches the ledger. In-process over MemoryLedger; the sweep (bad-input.ts) generates more of
 * the kind.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

let ledger: MemoryLedger;
let app: ReturnType<typeof createTestApp>;

beforeEach(() => {
  ledger = new MemoryLedger();
  app = createTestApp({ ledger, clock: systemClock, hostId: 'h-test' });
});

const post = (body: string | Uint8Array, path = '/payments') =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function refusal(response: Response) {
  expect(response.status).toBe(400);
  const { error } = (await response.json()) as {
    error: { code: string; message: string; details?: { field: string; message: string }[] };
  };
  expect(error.code).toBe('invalid_request');
  return error;
}

/** The fields a refused body's error names; and nothing of payment `id` reached the ledger. */
async function refusedFields(body: string, id: string): Promise<string[] | undefined> {
  const error = await refusal(await post(body));
  expect(await ledger.findById(id)).toEqual([]);
  return error.details?.map((d) => d.field);
}

/** A payment body with `description` made of these raw bytes (not text). */
function withDescriptionBytes(id: string, bytes: number[]): Uint8Array {
  const [head, tail] = [
    `{"id":"${id}","payer":"acct-a","payee":"shop-1","amount":100,"currency":"EUR","description":"x`,
    'y"}',
  ];
  return Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
}

describe('duplicate JSON keys (last wins in JSON.parse)', () => {
  it('refuses a body that gives amount twice, instead of paying the second amount', async () => {
    const error = await refusal(
      await post(
        '{"id":"d1","payer":"acct-a","payee":"shop-1","amount":100,"amount":100000,"currency":"EUR"}',
      ),
    );
    expect(error.message).toMatch(/duplicate key/);
    expect(error.details).toContainEqual({
      field: 'amount',
      message: expect.stringMatching(/more than once/),
    });
    expect(await ledger.findById('d1')).toEqual([]);
  });

  it('refuses a body that names the payer twice, instead of recording the second payer', async () => {
    const body = '{"id":"d2","payer":"acct-a","payee":"shop-1","payer":"acct-b","amount":1,"currency":"EUR"}';
    expect(await refusedFields(body, 'd2')).toEqual(['payer']);
  });

  it('refuses a duplicate spelled with an escape, and one inside metadata, naming its path', async () => {
    const escaped = await refusal(
      await post(
        '{"id":"d3","payer":"acct-a","payee":"shop-1","amount":1,"\\u0061mount":2,"currency":"EUR"}',
      ),
    );
    expect(escaped.details?.map((d) => d.field)).toEqual(['amount']);
    const nested = await refusal(
      await post(
        '{"id":"d4","payer":"acct-a","payee":"shop-1","amount":1,"currency":"EUR","metadata":{"k":"a","k":"b"}}',
      ),
    );
    expect(nested.details?.map((d) => d.field)).toEqual(['metadata.k']);
  });

  it('refuses a duplicate even when both values agree, and in the admin and clock routes too', async () => {
    await refusal(
      await post('{"id":"d5","payer":"acct-a","payee":"shop-1","amount":1,"amount":1,"currency":"EUR"}'),
    );
    await refusal(await post('{"accounts":["a"],"accounts":["*"]}', '/admin/keys'));
  });
});

describe('bytes that are not UTF-8 (replaced by U+FFFD when decoded leniently)', () => {
  it('refuses byte 0xFF in a description instead of storing U+FFFD', async () => {
    const error = await refusal(await post(withDescriptionBytes('u1', [0xff])));
    expect(error.message).toMatch(/UTF-8/);
    expect(await ledger.findById('u1')).toEqual([]);
  });

  it('does not answer 0xFE under the same id as a replay of 0xFF: both are refused', async () => {
    await refusal(await post(withDescriptionBytes('u2', [0xff])));
    await refusal(await post(withDescriptionBytes('u2', [0xfe])));
    expect(await ledger.findById('u2')).toEqual([]);
  });

  it('refuses overlong, surrogate, truncated and out-of-range sequences', async () => {
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]]) {
      await refusal(await post(withDescriptionBytes(`u3-${bytes[0]}`, bytes)));
    }
    expect(await ledger.findById('u3-192')).toEqual([]);
  });

  it('still accepts real UTF-8 (and a leading byte order mark)', async () => {
    const response = await post(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        withDescriptionBytes('u4', [0xc3, 0xa9, 0xf0, 0x9f, 0x92, 0xb8]),
      ]),
    );
    expect(response.status).toBe(201);
    expect(((await response.json()) as { description: string }).description).toBe('xé💸y');
  });
});

describe('lone surrogate escapes (turned into U+FFFD when stored as UTF-8)', () => {
  it('refuses \\ud800 in a description, naming the field', async () => {
    const body =
      '{"id":"s1","payer":"acct-a","payee":"shop-1","amount":1,"currency":"EUR","description":"a\\ud800"}';
    expect(await refusedFields(body, 's1')).toEqual(['description']);
  });

  it('accepts an escaped surrogate pair, which is one real character', async () => {
    const response = await post(
      '{"id":"s2","payer":"acct-a","payee":"shop-1","amount":1,"currency":"EUR","description":"\\ud83d\\udcb8"}',
    );
    expect(response.status).toBe(201);
  });
});
