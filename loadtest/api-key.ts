/**
 * The API key the load tools send (`Authorization: Bearer <key>`): every request except /health
 * and /ready needs one once hosts check keys. The Node tools take `--api-key`, else the
 * PAYMENTS_API_KEY environment variable; the k6 scripts take PAYMENTS_API_KEY. Without a key no
 * header is sent (a cluster that checks no keys). Plain TypeScript with no Node imports: k6 runs it.
 */

/** Environment variable holding the key, for every load tool. */
export const API_KEY_ENV = 'PAYMENTS_API_KEY';

/** The flag's key if given, else the environment's; empty counts as none. */
export function resolveApiKey(flag: string | undefined, env: string | undefined): string | undefined {
  const key = flag ?? env;
  return key ? key : undefined;
}

/** Headers that carry the key; none without a key. */
export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}
