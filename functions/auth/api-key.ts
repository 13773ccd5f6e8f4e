/**
 * The API key format and its hashing. A key reads `pay_<id>_<secret>`:
 *  - `id` (16 hex characters) names the key's record in the key store, so a request's key is found
 *    by one point read instead of a scan; it is not secret and appears in logs and listings;
 *  - `secret` (32 random bytes, base64url) is shown once, when the key is created, and stored only
 *    as its SHA-256. A fast hash is enough here (unlike for passwords) because the secret has 256
 *    bits of entropy: no dictionary or brute force reaches it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^pay_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  id: string;
  secret: string;
}

export interface GeneratedApiKey extends ParsedApiKey {
  /** The whole key, as the client sends it. */
  key: string;
  secretHash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, key: `pay_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The key's parts, or undefined when the text is not shaped like a key (no store lookup then). */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares in constant time, so response timing tells nothing about how much of a hash matched. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  const actual = createHash('sha256').update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The key from an `Authorization: Bearer <key>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header && /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}
