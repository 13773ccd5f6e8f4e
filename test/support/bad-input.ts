/**
 * Random and malformed requests for the bad-input sweep (fast-check arbitraries), each paired with
 * what the API must answer. Most cases are broken on purpose, by exactly one known flaw, so the
 * expected answer is a 4xx JSON error; a few are valid at the limits (largest amount, longest id,
 * most metadata keys) and must succeed. Used in-process over MemoryLedger and against real hosts.
 */
import fc from 'fast-check';
import { MAX_HISTORY_LIMIT } from '../../ledger/ledger';
import {
  IDENTIFIER_PATTERN,
  MAX_AMOUNT_MINOR_UNITS,
  MAX_DESCRIPTION_LENGTH,
  MAX_PAYMENT_BYTES,
  METADATA_LIMITS,
  type PaymentIntent,
  paymentBytes,
  toIntent,
} from '../../ledger/payment';

/** What a case must get back. `rejected` is a 4xx JSON error (with this exact status, if given). */
export type Expected =
  | { kind: 'rejected'; status?: number }
  | { kind: 'created'; intent: PaymentIntent }
  | { kind: 'found'; id: string; payer: string }
  | { kind: 'listed'; account: string }
  | { kind: 'healthy' }
  /** Any answer but a server error: below 500, and a 4xx is a JSON error from the table. */
  | { kind: 'answered' };

export interface SweepCase {
  /** Which flaw (or which valid shape) the case exercises; shown when a property fails. */
  label: string;
  method: string;
  /** Path and query, as sent (may hold percent escapes and path tricks). */
  path: string;
  headers: Record<string, string>;
  /** Text, or raw bytes for bodies that are not UTF-8. */
  body?: string | Uint8Array;
  expected: Expected;
}

/**
 * Payments already in the ledger before every case, so reads can hit something. `seed-shared` is
 * one id under two payers: read without `?payer=` it is ambiguous (409).
 */
export const SEED_PAYMENTS: PaymentIntent[] = [
  { id: 'seed-1', payer: 'seed-payer', payee: 'seed-payee', amount: 100, currency: 'EUR' },
  { id: 'seed-2', payer: 'seed-payee', payee: 'seed-payer', amount: 250, currency: 'GBP', description: 'x' },
  { id: 'seed-shared', payer: 'seed-payer', payee: 'seed-payee', amount: 7, currency: 'EUR' },
  { id: 'seed-shared', payer: 'seed-payee', payee: 'seed-payer', amount: 8, currency: 'EUR' },
];

export const MAX_BODY_BYTES = 64 * 1024;

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-'.split('');
const validIdentifier = (maxLength = 24) =>
  fc
    .string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength })
    .filter((s) => IDENTIFIER_PATTERN.test(s));

/** Identifiers that break the alphabet or length rule, unicode and path tricks included. */
const badIdentifier = fc.oneof(
  fc.constantFrom(
    '',
    '/',
    '.',
    '..',
    '...',
    '../seed-1',
    'a/b',
    'a b',
    '%2F',
    'seed-1\u0000',
    'ａｂｃ', // full-width
    'sееd-1', // Cyrillic е
    'a\u200bb', // zero-width space
    '\u202eabc', // right-to-left override
    '💸',
    'é',
    'a\nb',
  ),
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 129, maxLength: 400 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !IDENTIFIER_PATTERN.test(s)),
);

const currency = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')),
  minLength: 3,
  maxLength: 3,
});

/** A valid payment body; ids are unique per run through the `uniq` prefix the caller gives. */
const validPayment = fc
  .record({
    id: validIdentifier(40),
    payer: validIdentifier(),
    payee: validIdentifier(),
    amount: fc.integer({ min: 1, max: MAX_AMOUNT_MINOR_UNITS }),
    currency,
    description: fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
    // fast-check's dictionaries include `__proto__` keys now and then, which the API refuses
    // (ledger/payment.ts): a valid body never has one.
    metadata: fc.option(
      fc
        .dictionary(validIdentifier(10), fc.string({ maxLength: 20 }), { maxKeys: 4 })
        .filter((m) => !Object.hasOwn(m, '__proto__')),
      { nil: undefined },
    ),
  })
  .filter((p) => p.payer !== p.payee)
  .map((p) => toIntent(p)); // drops the optionals fast-check left undefined

/** Harmless extra headers: names that mean nothing to the API, any visible latin-1 value. */
const noiseHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  fc
    .string({
      unit: fc
        .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
        .map((c) => String.fromCharCode(c)),
      maxLength: 60,
    })
    .map((s) => s.trim()),
  { maxKeys: 3 },
);

const JSON_TYPE = { 'content-type': 'application/json' };
const post = (
  label: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
  expected: Expected,
): SweepCase => ({
  label,
  method: 'POST',
  path: '/payments',
  headers,
  body,
  // The size limit is checked before anything else in the body.
  expected:
    Buffer.byteLength(body) > MAX_BODY_BYTES && expected.kind === 'rejected' ? rejected(413) : expected,
});
const rejected = (status?: number): Expected => ({ kind: 'rejected', status });

/** Replaces one field of a valid payment with a value that breaks it. */
const brokenField = fc.oneof(
  fc.record({ field: fc.constantFrom('id', 'payer', 'payee'), value: badIdentifier }),
  fc.record({
    field: fc.constant('amount'),
    value: fc.oneof(
      fc.constantFrom(
        0,
        -1,
        -0,
        0.5,
        1.5,
        MAX_AMOUNT_MINOR_UNITS + 1,
        2 ** 53,
        2 ** 53 + 2,
        1e308,
        -1e308,
        1e-7,
      ),
      fc.integer({ max: 0 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.integer({ min: MAX_AMOUNT_MINOR_UNITS + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom('100', '1e3', null, true, [], {}, [100]),
    ),
  }),
  fc.record({
    field: fc.constant('currency'),
    value: fc.constantFrom('eur', 'EURO', 'EU', '€UR', '', 'E1R', 978, null, ['EUR']),
  }),
  fc.record({
    field: fc.constant('description'),
    value: fc.oneof(fc.constantFrom(1, null, true, {}), fc.constant('d'.repeat(MAX_DESCRIPTION_LENGTH + 1))),
  }),
  fc.record({
    field: fc.constant('metadata'),
    value: fc.oneof(
      fc.constantFrom(null, 'x', 7, [], [['a', 'b']], { a: 1 }, { a: { b: 'c' } }, { a: null }),
      fc.constant(
        Object.fromEntries(Array.from({ length: METADATA_LIMITS.maxKeys + 1 }, (_, i) => [`k${i}`, 'v'])),
      ),
      fc.constant({ ['k'.repeat(METADATA_LIMITS.maxKeyLength + 1)]: 'v' }),
      fc.constant({ k: 'v'.repeat(METADATA_LIMITS.maxValueLength + 1) }),
    ),
  }),
  fc.record({
    field: fc.constantFrom('extra', 'ID', 'Amount', 'sequence', 'host', 'committedAt'),
    value: fc.jsonValue(),
  }),
);

function withField(p: PaymentIntent, field: string, value: unknown): string {
  return JSON.stringify({ ...p, [field]: value });
}

/** Nested JSON far deeper than any payment: arrays or objects, in or around the body. */
const deepNesting = fc.record({
  depth: fc.integer({ min: 50, max: 9_000 }),
  shape: fc.constantFrom('array', 'object', 'in-metadata', 'in-unknown-field'),
});

function nested(depth: number, shape: string, p: PaymentIntent): string {
  const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  if (shape === 'array') return arrays;
  if (shape === 'object') return objects;
  const base = JSON.stringify(p).slice(0, -1);
  return shape === 'in-metadata' ? `${base},"metadata":${objects}}` : `${base},"deep":${arrays}}`;
}

/**
 * Bodies a lenient parser would alter on their way to storage (issue 15 §3), each of which must be
 * refused with 400: a key given twice (JSON.parse keeps the last), bytes that are not UTF-8 (a
 * lenient decoder stores U+FFFD), a lone surrogate escape (U+FFFD once encoded as UTF-8).
 */
const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xaf], // overlong, three bytes
  [0xed, 0xa0, 0x80], // a surrogate, encoded
  [0xe2, 0x82], // truncated
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80], // five-byte form
];

const alteredByLenientParsing = fc.oneof(
  // the same key twice, at the top or inside metadata, with another value or the same one
  fc
    .record({
      p: validPayment,
      key: fc.constantFrom('id', 'payer', 'payee', 'amount', 'currency', 'description', 'metadata'),
      same: fc.boolean(),
      spelling: fc.constantFrom('plain', 'escaped'),
    })
    .map(({ p: given, key, same, spelling }) => {
      // Every key the duplicate may repeat is present once already.
      const p = {
        ...given,
        description: given.description ?? 'first',
        metadata: given.metadata ?? { k: 'v' },
      };
      const name =
        spelling === 'escaped' ? `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}` : key;
      const value = same
        ? (p as Record<string, unknown>)[key]
        : key === 'amount'
          ? 100_000
          : key === 'metadata'
            ? {}
            : 'other';
      return post(
        `duplicate key ${key} (${same ? 'same value' : 'other value'}, ${spelling})`,
        `${JSON.stringify(p).slice(0, -1)},"${name}":${JSON.stringify(value)}}`,
        JSON_TYPE,
        rejected(400),
      );
    }),
  fc
    .record({ p: validPayment, key: validIdentifier(10) })
    .map(({ p, key }) =>
      post(
        'duplicate metadata key',
        `${JSON.stringify({ ...p, metadata: undefined }).slice(0, -1)},"metadata":{"${key}":"a","${key}":"b"}}`,
        JSON_TYPE,
        rejected(400),
      ),
    ),
  fc.record({ p: validPayment, bytes: fc.constantFrom(...INVALID_UTF8) }).map(({ p, bytes }) => {
    const text = JSON.stringify({ ...p, description: 'before|after' });
    const cut = text.indexOf('|');
    const body = Buffer.concat([
      Buffer.from(text.slice(0, cut)),
      Buffer.from(bytes),
      Buffer.from(text.slice(cut + 1)),
    ]);
    return post(
      `bytes not UTF-8 (${bytes.map((b) => b.toString(16)).join(' ')})`,
      body,
      JSON_TYPE,
      rejected(400),
    );
  }),
  fc
    .record({
      p: validPayment,
      lone: fc.constantFrom('\\ud800', '\\udfff', '\\udc00\\ud800', 'a\\ud83d', '\\udcb8b'),
      where: fc.constantFrom('description', 'metadata value', 'metadata key', 'unknown key'),
    })
    .map(({ p, lone, where }) => {
      const base = JSON.stringify({ ...p, description: undefined, metadata: undefined }).slice(0, -1);
      const field =
        where === 'description'
          ? `"description":"${lone}"`
          : where === 'metadata value'
            ? `"metadata":{"k":"${lone}"}`
            : where === 'metadata key'
              ? `"metadata":{"${lone}":"v"}`
              : `"${lone}":1`;
      return post(`lone surrogate escape in ${where}`, `${base},${field}}`, JSON_TYPE, rejected(400));
    }),
);

/** POST /payments with exactly one flaw, or valid at the limits. */
export const postCases = (uniq: () => string) =>
  fc.oneof(
    // valid, with noise around it: must be created
    fc
      .record({
        p: validPayment,
        noise: noiseHeaders,
        style: fc.constantFrom('body', 'header', 'both', 'charset'),
      })
      .map(({ p, noise, style }) => {
        const intent = { ...p, id: `${uniq()}${p.id}`.slice(0, 128) };
        const { id, ...rest } = intent;
        const headers: Record<string, string> = { ...noise, ...JSON_TYPE };
        if (style === 'charset') headers['content-type'] = 'Application/JSON; charset=utf-8';
        if (style === 'header' || style === 'both') headers['idempotency-key'] = id;
        const body = JSON.stringify(style === 'header' ? rest : intent);
        return post(`valid (${style})`, body, headers, { kind: 'created', intent });
      }),
    // valid at the limits
    fc
      .constantFrom(
        'max-amount',
        'min-amount',
        'longest-id',
        'most-metadata',
        'longest-description',
        'over-size-cap',
      )
      .map((limit) => {
        const intent: PaymentIntent = {
          id: uniq(),
          payer: 'edge-a',
          payee: 'edge-b',
          amount: 1,
          currency: 'USD',
        };
        if (limit === 'max-amount') intent.amount = MAX_AMOUNT_MINOR_UNITS;
        if (limit === 'longest-id') intent.id = `${intent.id}${'x'.repeat(128)}`.slice(0, 128);
        if (limit === 'longest-description') intent.description = 'd'.repeat(MAX_DESCRIPTION_LENGTH);
        if (limit === 'most-metadata' || limit === 'over-size-cap') {
          // The most keys, of the longest names, with values filling the payment to its size cap
          // (MAX_PAYMENT_BYTES), exactly; one byte more is refused.
          intent.metadata = Object.fromEntries(
            Array.from({ length: METADATA_LIMITS.maxKeys }, (_, i) => [
              `${i}`.padStart(METADATA_LIMITS.maxKeyLength, 'k'),
              '',
            ]),
          );
          const room = MAX_PAYMENT_BYTES - paymentBytes(intent) + (limit === 'over-size-cap' ? 1 : 0);
          const keys = Object.keys(intent.metadata);
          for (const [i, key] of keys.entries())
            intent.metadata[key] = 'v'.repeat(
              Math.floor(room / keys.length) + (i < room % keys.length ? 1 : 0),
            );
        }
        if (limit === 'over-size-cap')
          return post('one byte over the payment size cap', JSON.stringify(intent), JSON_TYPE, rejected(400));
        return post(`valid at limit (${limit})`, JSON.stringify(intent), JSON_TYPE, {
          kind: 'created',
          intent,
        });
      }),
    fc
      .record({ p: validPayment, broken: brokenField })
      .map(({ p, broken }) =>
        post(`bad ${broken.field}`, withField(p, broken.field, broken.value), JSON_TYPE, rejected(400)),
      ),
    fc
      .record({ p: validPayment, drop: fc.constantFrom('payer', 'payee', 'amount', 'currency', 'id') })
      .map(({ p, drop }) => {
        const copy: Record<string, unknown> = { ...p };
        delete copy[drop];
        return post(`missing ${drop}`, JSON.stringify(copy), JSON_TYPE, rejected(400));
      }),
    validPayment.map((p) =>
      post('payer equals payee', JSON.stringify({ ...p, payee: p.payer }), JSON_TYPE, rejected(400)),
    ),
    // prototype-pollution shaped keys, written into the JSON text so they really are own keys
    fc
      .record({ p: validPayment, key: fc.constantFrom('__proto__', 'constructor', 'prototype') })
      .map(({ p, key }) =>
        post(
          `${key} key`,
          `${JSON.stringify(p).slice(0, -1)},"${key}":{"amount":-1,"admin":true}}`,
          JSON_TYPE,
          rejected(400),
        ),
      ),
    fc
      .record({ p: validPayment, depth: deepNesting })
      .map(({ p, depth }) =>
        post(`deep nesting (${depth.shape})`, nested(depth.depth, depth.shape, p), JSON_TYPE, rejected(400)),
      ),
    fc
      .oneof(fc.jsonValue(), fc.constantFrom(null, [], 'payment', 0, true))
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
      .map((v) => post('body not an object', JSON.stringify(v), JSON_TYPE, rejected(400))),
    fc
      .oneof(
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          '',
          '{',
          '{"id":',
          "{'id':'x'}",
          '{"a":1,}',
          'NaN',
          'undefined',
          '\u0000',
          '\ufeff{}',
          '{"amount":1e400',
        ),
        validPayment.map((p) => JSON.stringify(p).slice(0, -1)),
      )
      .filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      })
      .map((s) => post('body not JSON', s, JSON_TYPE, rejected(400))),
    // 1e400 parses to Infinity, which is no amount
    validPayment.map((p) =>
      post(
        'amount overflows to Infinity',
        JSON.stringify(p).replace(/"amount":\d+/, '"amount":1e400'),
        JSON_TYPE,
        rejected(400),
      ),
    ),
    fc
      .record({
        p: validPayment,
        type: fc.constantFrom(
          undefined,
          '',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/jsonp',
          'json',
          'text/json',
          'application/octet-stream',
          'application/json-seq-x',
        ),
      })
      .map(({ p, type }) =>
        post(
          `content type ${String(type)}`,
          JSON.stringify(p),
          type === undefined ? {} : { 'content-type': type },
          rejected(415),
        ),
      ),
    fc
      .record({ p: validPayment, key: fc.oneof(badIdentifier, fc.constant('other-id')) })
      .filter(({ p, key }) => /^[\x21-\x7e\x80-\xff]+$/.test(key) && key !== p.id)
      .map(({ p, key }) =>
        post(
          'bad or mismatched Idempotency-Key',
          JSON.stringify(p),
          { ...JSON_TYPE, 'idempotency-key': key },
          rejected(400),
        ),
      ),
    validPayment.map(({ id: _id, ...rest }) =>
      post('no id anywhere', JSON.stringify(rest), JSON_TYPE, rejected(400)),
    ),
    alteredByLenientParsing,
    fc
      .record({ p: validPayment, extra: fc.integer({ min: 1, max: 4096 }) })
      .map(({ p, extra }) =>
        post(
          'body over the limit',
          JSON.stringify({ ...p, description: 'd'.repeat(MAX_BODY_BYTES + extra) }),
          JSON_TYPE,
          rejected(413),
        ),
      ),
  );

/** A path as the server sees it: appended to an origin, never resolved relative to one. */
const parsePath = (path: string) => new URL(`http://sweep.invalid${path}`);

/** What GET on a path must answer, judged from the normalised path as a URL parser sees it. */
export function expectedForGet(pathAndQuery: string): Expected {
  const url = parsePath(pathAndQuery);
  if (url.pathname === '/health' || url.pathname === '/ready') return { kind: 'healthy' };
  const match = /^\/payments\/([^/]+)$/.exec(url.pathname);
  if (!match) return rejected(404);
  let id = match[1]!;
  try {
    id = decodeURIComponent(id);
  } catch {
    // a malformed escape stays as it is, and then fails the alphabet
  }
  if (!IDENTIFIER_PATTERN.test(id)) return rejected(400);
  const payer = url.searchParams.get('payer');
  if (payer !== null && !IDENTIFIER_PATTERN.test(payer)) return rejected(400);
  const matching = SEED_PAYMENTS.filter((p) => p.id === id && (payer === null || p.payer === payer));
  if (matching.length > 1) return rejected(409);
  return matching[0] ? { kind: 'found', id, payer: matching[0].payer } : rejected(404);
}

/** Adds `payer=` to a path's query, before any fragment. */
function withPayer(path: string, payer: string | undefined): string {
  if (payer === undefined) return path;
  const hash = path.indexOf('#');
  const [head, fragment] = hash < 0 ? [path, ''] : [path.slice(0, hash), path.slice(hash)];
  return `${head}${head.includes('?') ? '&' : '?'}payer=${payer}${fragment}`;
}

/** The `payer` of GET /payments/:id: a seed's payer or payee, any valid name, or a broken one. */
const payerParam = fc.option(
  fc.oneof(
    fc.constantFrom('seed-payer', 'seed-payee'),
    validIdentifier(),
    fc.constantFrom('', '%2F', 'a%20b', '..'),
    badIdentifier.map(encodeURIComponent),
  ),
  { nil: undefined },
);

const idSegment = fc.oneof(
  validIdentifier(),
  fc.constantFrom(
    'seed-1',
    'seed-2',
    'seed-shared',
    '%73eed-1',
    '.',
    '..',
    '%2e%2e',
    '%2F',
    'a%2Fb',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '',
  ),
  badIdentifier.map(encodeURIComponent),
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 129, maxLength: 5000 }),
);

export const getByIdCases = fc
  .record({
    id: idSegment,
    trick: fc.constantFrom('', '/', '/..', '/../health', '/x', '?x=1', '#frag'),
    payer: payerParam,
  })
  .map(({ id, trick, payer }) => {
    const path = withPayer(`/payments/${id}${trick}`, payer);
    return {
      label: `GET by id ${trick || 'plain'}${payer === undefined ? '' : ' with payer'}`,
      method: 'GET',
      path,
      headers: {},
      expected: expectedForGet(path),
    } satisfies SweepCase;
  });

/** A history query with at most one broken parameter. */
export const historyCases = fc
  .record({
    account: fc.oneof(validIdentifier(), fc.constantFrom('seed-payer', 'seed-payee')),
    broken: fc.option(
      fc.oneof(
        fc.record({ name: fc.constant('account'), value: badIdentifier }),
        fc.record({
          name: fc.constant('limit'),
          value: fc.oneof(
            fc.constantFrom(
              '0',
              '-1',
              '1.5',
              'ten',
              '',
              ' 1',
              '1e3',
              '0x10',
              String(MAX_HISTORY_LIMIT + 1),
              '99999999999999999999',
            ),
            fc.integer({ min: MAX_HISTORY_LIMIT + 1 }).map(String),
          ),
        }),
        fc.record({
          name: fc.constantFrom('from', 'to'),
          value: fc.constantFrom(
            'yesterday',
            '2026-02-30',
            '2026-13-01',
            '0000-01-01',
            '99999-01-01',
            '1969-12-31',
            '2026-01-01T25:00',
            '12345',
            '',
          ),
        }),
        fc.record({
          name: fc.constant('cursor'),
          value: fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom('eyJhZnRlciI6LTF9', 'bnVsbA', 'eyJhZnRlciI6MS41fQ'),
          ),
        }),
      ),
      { nil: undefined },
    ),
    limit: fc.option(fc.integer({ min: 1, max: MAX_HISTORY_LIMIT }), { nil: undefined }),
    omitAccount: fc.boolean(),
  })
  .map(({ account, broken, limit, omitAccount }): SweepCase => {
    const params = new URLSearchParams();
    if (!omitAccount) params.set('account', account);
    if (limit !== undefined) params.set('limit', String(limit));
    if (broken) params.set(broken.name, broken.value);
    return {
      label: broken ? `history with bad ${broken.name}` : omitAccount ? 'history without account' : 'history',
      method: 'GET',
      path: `/payments?${params}`,
      headers: {},
      expected: !omitAccount && broken === undefined ? { kind: 'listed', account } : rejected(400),
    };
  });

/** Other methods and unknown routes: a 404 JSON error, never a crash. */
export const otherRouteCases = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    path: fc.oneof(
      fc.constantFrom(
        '/',
        '/payments/',
        '/PAYMENTS',
        '/payments/seed-1/refund',
        '/health/',
        '/ready/x',
        '//payments',
        '/payments;x',
        '/%2e%2e/etc/passwd',
        '/admin',
      ),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    ),
    body: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
  })
  // POST /payments and GET /payments have case generators of their own
  .filter(
    ({ method, path }) =>
      !((method === 'POST' || method === 'GET') && parsePath(path).pathname === '/payments'),
  )
  .map(({ method, path, body }): SweepCase => {
    const expected: Expected = method === 'GET' ? expectedForGet(path) : rejected(404);
    return {
      label: `${method} other route`,
      method,
      path,
      headers: JSON_TYPE,
      body: method === 'GET' ? undefined : body,
      expected,
    };
  });

/** Health and readiness with noise in the query and headers: always 200. */
export const healthCases = fc
  .record({
    path: fc.constantFrom('/health', '/ready'),
    query: fc.string({ unit: fc.constantFrom(...'ab=&%?x1'.split('')), maxLength: 20 }),
    noise: noiseHeaders,
  })
  .map(
    ({ path, query, noise }): SweepCase => ({
      label: `${path} with noise`,
      method: 'GET',
      path: `${path}${query ? `?${query}` : ''}`,
      headers: noise,
      expected: { kind: 'healthy' },
    }),
  );

/**
 * Names that every plain JavaScript object inherits: a lookup table indexed by a path segment
 * (`ASSETS[name]`) finds these unless it checks own keys, as GET /dashboard/assets/constructor
 * once did (a 500).
 */
export const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
] as const;

/** Every method a client may send; HEAD and OPTIONS included (OPTIONS once reached a 500). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** A served route, as hono's `app.routes` (`/payments/:id`) or an OpenAPI document (`/payments/{id}`) names it. */
export interface RouteTemplate {
  method: string;
  path: string;
}

/** The routes of an OpenAPI document's `paths`, in hono's `:param` form. */
export function routesOfOpenApi(paths: Record<string, Record<string, unknown>>): RouteTemplate[] {
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{(\w+)\}/g, ':$1'),
    })),
  );
}

/**
 * Every route × every method × a path parameter that is a prototype property name (or an
 * ordinary one), with and without a key, and a body whose keys are prototype names too. Whatever
 * the combination, the answer is never a 5xx: a method a route does not serve is a 404.
 */
export const routeMethodCases = (routes: readonly RouteTemplate[]) =>
  fc
    .record({
      route: fc.constantFrom(...routes),
      method: fc.constantFrom(...HTTP_METHODS),
      param: fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), validIdentifier(), fc.constant('%2e%2e')),
      keyless: fc.boolean(),
      body: fc.constantFrom(
        undefined,
        '{}',
        '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
        '{"toString":1,"hasOwnProperty":"x"}',
      ),
    })
    .map(({ route, method, param, keyless, body }): SweepCase => {
      const path = route.path.replace(/:\w+/g, param === '%2e%2e' ? param : encodeURIComponent(param));
      const headers: Record<string, string> = keyless ? { authorization: '' } : {};
      const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      if (sendsBody) headers['content-type'] = 'application/json';
      return {
        label: `${method} on ${route.method} ${route.path} (${param}${keyless ? ', no key' : ''})`,
        method,
        path,
        headers,
        body: sendsBody ? body : undefined,
        expected: { kind: 'answered' },
      };
    });

/** Every endpoint, each case with harmless noise headers added. */
export const sweepCases = (uniq: () => string) =>
  fc
    .record({
      c: fc.oneof(postCases(uniq), getByIdCases, historyCases, otherRouteCases, healthCases),
      noise: noiseHeaders,
    })
    .map(({ c, noise }): SweepCase => ({ ...c, headers: { ...noise, ...c.headers } }));
