/**
 * What a payment is: the request schema (zod, the single source of validation), the stored
 * payment a client gets back, and the two rules the dedup path relies on:
 *  - `sameContent` decides replay (200) versus conflict (409);
 *  - `serializePayment` renders a stored payment to bytes deterministically, so a replay is
 *    byte-identical to the first answer on whichever host serves it.
 */
import { z } from 'zod';

/**
 * Payment ids and account names share one alphabet, which keeps them safe inside etcd keys. An
 * identifier of dots alone is refused: `/payments/..` is a path trick that URL normalisation
 * resolves away, so such a payment could be created but never read back by id.
 */
export const IDENTIFIER_PATTERN = /^(?!\.+$)[A-Za-z0-9._:-]{1,128}$/;
export const MAX_AMOUNT_MINOR_UNITS = 1_000_000_000_000_000; // 10^15, well inside 2^53
export const METADATA_LIMITS = { maxKeys: 50, maxKeyLength: 64, maxValueLength: 500 } as const;
export const MAX_DESCRIPTION_LENGTH = 1000;
/**
 * Cap on a payment's encoded size in bytes: its intent as UTF-8 JSON (toIntent, JSON.stringify,
 * which writes a control character as a 6-byte `\u0001`-style escape). The field limits alone allowed
 * about 59 KB (50 metadata values of 195 U+0001), and ~70 such payments in one account's history
 * made every read of it exceed gRPC's 4 MiB message (issue 17 §2). A stored record adds at most
 * STORED_OVERHEAD_BYTES to it (committedAt, sequence, host, hlc, the commit's nonce).
 */
export const MAX_PAYMENT_BYTES = 16 * 1024;
export const STORED_OVERHEAD_BYTES = 1024;

const identifier = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(IDENTIFIER_PATTERN, `${what} must be 1 to 128 characters from [A-Za-z0-9._:-], not dots alone`);

const metadataSchema = z
  .record(
    z
      .string()
      .max(
        METADATA_LIMITS.maxKeyLength,
        `metadata keys are at most ${METADATA_LIMITS.maxKeyLength} characters`,
      ),
    z
      .string({ error: 'metadata values must be strings' })
      .max(
        METADATA_LIMITS.maxValueLength,
        `metadata values are at most ${METADATA_LIMITS.maxValueLength} characters`,
      ),
  )
  .refine((m) => Object.keys(m).length <= METADATA_LIMITS.maxKeys, {
    message: `metadata has at most ${METADATA_LIMITS.maxKeys} keys`,
  });

/** The body of `POST /payments`. `id` may come from the `Idempotency-Key` header instead. */
export const paymentRequestSchema = z
  .strictObject({
    id: identifier('id').optional(),
    payer: identifier('payer'),
    payee: identifier('payee'),
    amount: z
      .number({ error: 'amount must be a number' })
      .int('amount must be an integer in minor units')
      .positive('amount must be positive')
      .max(MAX_AMOUNT_MINOR_UNITS, 'amount must be at most 10^15 minor units'),
    currency: z
      .string({ error: 'currency must be a string' })
      .regex(/^[A-Z]{3}$/, 'currency must be three upper-case letters (ISO 4217)'),
    description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((p) => p.payer !== p.payee, { message: 'payer and payee must differ', path: ['payee'] })
  .superRefine((p, ctx) => {
    const problem = paymentSizeProblem({ ...p, id: p.id ?? '' });
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [] });
  });

export type PaymentRequest = z.infer<typeof paymentRequestSchema>;

/** A validated payment as the client asked for it, id resolved. */
export interface PaymentIntent {
  id: string;
  payer: string;
  payee: string;
  amount: number;
  currency: string;
  description?: string;
  metadata?: Record<string, string>;
}

/** A committed payment, as every host returns it. */
export interface StoredPayment extends PaymentIntent {
  /** ISO-8601 UTC time from the committing host's clock. */
  committedAt: string;
  /** Unique, totally ordered across the ledger; see ledger/etcd/sequence.ts. */
  sequence: number;
  /** Id of the function host that committed it. */
  host: string;
  /** HLC timestamp of the commit (coordination/clock/hlc.ts); absent on payments from hosts without one. */
  hlc?: string;
}

const canonicalMetadata = (m: Record<string, string> | undefined): string =>
  m === undefined
    ? ''
    : JSON.stringify(
        Object.keys(m)
          .sort()
          .map((k) => [k, m[k]]),
      );

/**
 * True when a retried request asks for the same payment that is stored. Metadata key order does
 * not matter (JSON objects are unordered); every other field must match exactly.
 */
export function sameContent(a: PaymentIntent, b: PaymentIntent): boolean {
  return (
    a.id === b.id &&
    a.payer === b.payer &&
    a.payee === b.payee &&
    a.amount === b.amount &&
    a.currency === b.currency &&
    a.description === b.description &&
    canonicalMetadata(a.metadata) === canonicalMetadata(b.metadata)
  );
}

/**
 * A payment's identity: its payer and its id. Two tenants may use the same id; each is a payment
 * of its own, and replay and conflict are decided within one payer. Identifiers never contain
 * '/' (IDENTIFIER_PATTERN), so the key is unambiguous.
 */
export function paymentKey(p: Pick<PaymentIntent, 'payer' | 'id'>): string {
  return `${p.payer}/${p.id}`;
}

/** Copies only the intent's fields, in a fixed order, dropping absent optionals. */
export function toIntent(p: PaymentIntent): PaymentIntent {
  const intent: PaymentIntent = {
    id: p.id,
    payer: p.payer,
    payee: p.payee,
    amount: p.amount,
    currency: p.currency,
  };
  if (p.description !== undefined) intent.description = p.description;
  if (p.metadata !== undefined) intent.metadata = p.metadata;
  return intent;
}

/** A payment's encoded size in bytes, as MAX_PAYMENT_BYTES counts it. */
export const paymentBytes = (p: PaymentIntent): number => Buffer.byteLength(JSON.stringify(toIntent(p)));

/** Why this payment is over MAX_PAYMENT_BYTES, or undefined when it is within it. */
export function paymentSizeProblem(p: PaymentIntent): string | undefined {
  const bytes = paymentBytes(p);
  return bytes > MAX_PAYMENT_BYTES
    ? `payment encodes to ${bytes} bytes, over the cap of ${MAX_PAYMENT_BYTES} bytes (MAX_PAYMENT_BYTES)`
    : undefined;
}

/** The one rendering of a stored payment: fixed field order, so replays are byte-identical. */
export function serializePayment(p: StoredPayment): string {
  const hlc = p.hlc === undefined ? {} : { hlc: p.hlc };
  return JSON.stringify({
    ...toIntent(p),
    committedAt: p.committedAt,
    sequence: p.sequence,
    host: p.host,
    ...hlc,
  });
}
